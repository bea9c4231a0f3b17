// Minimal typings for the `hashring` package (it ships none); only what the benchmark uses.
declare module 'hashring' {
  type Servers = string | string[] | Record<string, number | { weight?: number; vnodes?: number }>;
  class HashRing {
    constructor(servers: Servers, algorithm?: string, options?: Record<string, unknown>);
    get(key: string): string;
    range(key: string, size?: number, unique?: boolean): string[];
  }
  export = HashRing;
}
