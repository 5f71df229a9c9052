/**
 * deploy/: the systemd units and the Dockerfile take settings and secrets from an environment file, never from a
 * literal on a command line; every ENOSE_* name the example environment file sets is one that serve and fleet
 * read (a flag's ENOSE_<OPTION>, or the broker credentials), so that a typo there cannot pass unnoticed.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envName } from '../../src/cli/envOptions.js';
import { FLEET_OPTIONS } from '../../src/cli/fleet.js';
import { SERVE_OPTIONS } from '../../src/cli/serve.js';
import { REPO_ROOT } from '../helpers/shared.js';

const read = (name: string) => readFileSync(resolve(REPO_ROOT, 'deploy', name), 'utf8');

describe('deploy files', () => {
  it('the example environment file names only variables enose reads', () => {
    const known = new Set([...Object.keys(SERVE_OPTIONS), ...Object.keys(FLEET_OPTIONS)].map(envName));
    known.add('ENOSE_MQTT_USERNAME').add('ENOSE_MQTT_PASSWORD');
    const names = read('enose.env.example')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.slice(0, l.indexOf('=')));
    expect(names).toEqual(expect.arrayContaining(['ENOSE_MQTT', 'ENOSE_MQTT_USERNAME', 'ENOSE_MQTT_PASSWORD', 'ENOSE_TOKEN']));
    for (const n of names) expect(known, n).toContain(n);
  });

  for (const unit of ['enose-fleet.service', 'enose-station@.service']) {
    it(`${unit} reads /etc/enose/enose.env and puts no secret on its command line`, () => {
      const text = read(unit);
      expect(text).toMatch(/^EnvironmentFile=\/etc\/enose\/enose\.env$/m);
      const exec = text.slice(text.indexOf('ExecStart='), text.indexOf('\n', text.indexOf('ExecStart=') + 1) + 200).split('\n').filter((l) => !l.startsWith('#')).join(' ');
      expect(exec).not.toMatch(/--token|--mqtt|PASSWORD|TOKEN/);
    });
  }

  it('the Dockerfile examples pass secrets with --env-file, not -e or --token', () => {
    const text = read('Dockerfile');
    expect(text).toContain('--env-file /etc/enose/enose.env');
    expect(text).not.toMatch(/-e ENOSE_(MQTT_PASSWORD|TOKEN)|--token /);
  });
});
