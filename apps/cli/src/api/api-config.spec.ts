import { DEFAULT_API_URL, apiConfigFromEnv } from './api-config';

describe(apiConfigFromEnv.name, () => {
  it('defaults to the local coordinator without a token', () => {
    expect(apiConfigFromEnv({})).toMatchObject({ baseUrl: DEFAULT_API_URL, token: undefined });
  });

  it('drops trailing slashes and reads the token', () => {
    const sut = apiConfigFromEnv({
      TESSERA_API_URL: 'https://tessera.example:8443/',
      TESSERA_ADMIN_TOKEN: 'abc12345',
    });

    expect(sut).toMatchObject({ baseUrl: 'https://tessera.example:8443', token: 'abc12345' });
  });

  it('names the variable when the URL is bad', () => {
    expect(() => apiConfigFromEnv({ TESSERA_API_URL: 'not a url' })).toThrow(
      'TESSERA_API_URL is not a valid URL',
    );
    expect(() => apiConfigFromEnv({ TESSERA_API_URL: 'nats://x:4222' })).toThrow(
      'TESSERA_API_URL must be an http(s) URL',
    );
  });
});
