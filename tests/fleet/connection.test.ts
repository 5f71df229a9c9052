/** The broker address: credentials from the environment only, never in a URL that could be logged. */
import { describe, expect, it } from 'vitest';
import { brokerAddress, redactUrl } from '../../src/fleet/connection.js';

describe('brokerAddress', () => {
  it('takes the credentials from ENOSE_MQTT_USERNAME / ENOSE_MQTT_PASSWORD', () => {
    const a = brokerAddress('mqtt://127.0.0.1:1883', { ENOSE_MQTT_USERNAME: 'quay-7', ENOSE_MQTT_PASSWORD: 's3cret-pw' });
    expect(a).toEqual({ url: 'mqtt://127.0.0.1:1883', username: 'quay-7', password: 's3cret-pw' });
    expect(brokerAddress('mqtts://broker:8883', {})).toEqual({ url: 'mqtts://broker:8883', username: undefined, password: undefined });
  });

  it('refuses credentials in the URL and other schemes, without repeating the password', () => {
    expect(() => brokerAddress('mqtt://u:s3cret-pw@127.0.0.1:1883', {})).toThrow(/ENOSE_MQTT_USERNAME/);
    try {
      brokerAddress('mqtt://u:s3cret-pw@127.0.0.1:1883', {});
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cret-pw');
    }
    expect(() => brokerAddress('http://127.0.0.1', {})).toThrow(/mqtt:\/\//);
    expect(() => brokerAddress('not a url :// x', {})).toThrow(/--mqtt must be a URL/);
    expect(redactUrl('mqtt://u:pw@host:1883')).toBe('mqtt://***@host:1883');
  });
});
