/** The OpenAPI 3 document of the service, made from the route table, so the two cannot drift apart. */
import type { Route } from './routes.js';

export function openApiDocument(routes: readonly Route[], info: { readonly version: string; readonly modelId: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const method = route.method === '*' ? 'get' : route.method.toLowerCase();
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...(route.doc.query ?? []).map((q) => ({ name: q.name, in: 'query', required: false, description: q.description, schema: { type: 'string' } })),
    ];
    const produces = route.doc.produces ?? 'application/json';
    const responses: Record<string, unknown> = {};
    for (const [code, description] of Object.entries(route.doc.responses)) {
      responses[code] = code.startsWith('2') && code !== '204' ? { description, content: { [produces]: {} } } : { description };
    }
    (paths[route.path] ??= {})[method] = {
      operationId: `${method}${route.path.replace(/\{(\w+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: route.doc.summary,
      ...(parameters.length > 0 && { parameters }),
      ...(route.doc.body && {
        requestBody: { required: true, description: route.doc.body.description, content: { 'application/json': { example: route.doc.body.example } } },
      }),
      responses,
      security: route.access === 'bearer' ? [{ bearer: [] }] : route.access === 'session' ? [{ bearer: [] }, { session: [] }] : [],
      'x-enose-access': route.access,
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'enose scanner service', version: info.version, description: `The e-nose engine behind HTTP (model ${info.modelId}). With --token, the API needs Authorization: Bearer <token>; the page and what it reads also take the session cookie from /login.` },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'the --token of enose serve' },
        session: { type: 'apiKey', in: 'cookie', name: 'enose_session', description: 'the page session, from GET /login?token=...' },
      },
    },
  };
}
