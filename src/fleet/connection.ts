/**
 * The broker URL and credentials: `mqtt://host:port` (or mqtts://), credentials from ENOSE_MQTT_USERNAME and
 * ENOSE_MQTT_PASSWORD (never from the command line, where `ps` shows them), and a form of the URL that is safe
 * to log.
 */
import type { IClientOptions } from 'mqtt';
import { EnoseError } from '../errors.js';

export interface BrokerAddress {
  /** The URL without credentials. */
  readonly url: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

/** Parses `--mqtt`; credentials come from `env` (a URL's own user:password is refused: it would be logged). */
export function brokerAddress(raw: string, env: NodeJS.ProcessEnv = process.env): BrokerAddress {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EnoseError('bad-option', `--mqtt must be a URL such as mqtt://127.0.0.1:1883, got "${redactUrl(raw)}"`);
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new EnoseError('bad-option', `--mqtt must be an mqtt://, mqtts://, ws:// or wss:// URL, got "${url.protocol}"`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new EnoseError('bad-option', '--mqtt must not carry credentials: set ENOSE_MQTT_USERNAME and ENOSE_MQTT_PASSWORD instead');
  }
  const username = env['ENOSE_MQTT_USERNAME'] || undefined;
  const password = env['ENOSE_MQTT_PASSWORD'] || undefined;
  return { url: url.toString().replace(/\/$/, ''), username, password };
}

/** The connection options shared by stations and the centre. */
export function clientOptions(address: BrokerAddress, clientId: string, extra: IClientOptions = {}): IClientOptions {
  return {
    clientId,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    keepalive: 30,
    ...(address.username !== undefined && { username: address.username }),
    ...(address.password !== undefined && { password: address.password }),
    ...extra,
  };
}

/** A URL with any user:password replaced, for messages. */
export function redactUrl(raw: string): string {
  return raw.replace(/\/\/[^/@]*@/, '//***@');
}
