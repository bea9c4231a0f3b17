import 'reflect-metadata';
import { HttpMapSource, parseMapView } from './map-source';
import { resource } from './testing.fakes';

function fakeFetch(
  status: number,
  body: unknown,
  seen: { url?: string; headers?: Record<string, string> } = {},
): typeof fetch {
  return (async (url: string, init?: RequestInit) => {
    seen.url = url;
    seen.headers = init?.headers as Record<string, string>;
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  }) as typeof fetch;
}

describe(HttpMapSource.name, () => {
  const map = { version: 2, resources: [resource('orders', 2, ['n1'])] };

  it('GETs /api/v1/map with the bearer token', async () => {
    const seen: { url?: string; headers?: Record<string, string> } = {};
    const sut = new HttpMapSource('http://coord:3000/', {
      token: 'secret-token',
      fetch: fakeFetch(200, map, seen),
    });
    await expect(sut.fetchMap()).resolves.toEqual(map);
    expect(seen.url).toBe('http://coord:3000/api/v1/map');
    expect(seen.headers?.['authorization']).toBe('Bearer secret-token');
  });

  it('turns an error body into a TesseraError with its code', async () => {
    const sut = new HttpMapSource('http://coord:3000', {
      fetch: fakeFetch(401, { statusCode: 401, code: 'UNAUTHORIZED', message: 'token required' }),
    });
    await expect(sut.fetchMap()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('reports an unreachable coordinator as UNAVAILABLE', async () => {
    const sut = new HttpMapSource('http://coord:3000', {
      fetch: (async () => {
        throw new TypeError('fetch failed');
      }) as typeof fetch,
    });
    await expect(sut.fetchMap()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('refuses a malformed map', async () => {
    const sut = new HttpMapSource('http://coord:3000', {
      fetch: fakeFetch(200, {
        version: 1,
        resources: [{ name: 'x', partitionCount: 0, partitions: [] }],
      }),
    });
    await expect(sut.fetchMap()).rejects.toMatchObject({ code: 'INVALID' });
  });
});

describe(parseMapView.name, () => {
  it.each([
    ['a negative version', { version: -1, resources: [] }],
    [
      'a leader that is not a string',
      {
        version: 1,
        resources: [
          {
            name: 'x',
            partitionCount: 1,
            partitions: [{ partition: 0, replicas: [], leader: 5, epoch: 1, isr: [] }],
          },
        ],
      },
    ],
    ['missing resources', { version: 1 }],
  ])('refuses %s', (_what, value) => {
    expect(() => parseMapView(value)).toThrow(expect.objectContaining({ code: 'INVALID' }));
  });
});
