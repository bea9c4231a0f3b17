import { CliError } from './cli-error';

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface ApiConfig {
  /** The coordinator's base URL as the user gave it, without a trailing slash. */
  baseUrl: string;
  token: string | undefined;
  timeoutMs: number;
}

/** Reads `TESSERA_API_URL` and `TESSERA_ADMIN_TOKEN`; a bad URL is one clear line naming it. */
export function apiConfigFromEnv(env: NodeJS.ProcessEnv): ApiConfig {
  const raw = env['TESSERA_API_URL']?.trim() || DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`TESSERA_API_URL is not a valid URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`TESSERA_API_URL must be an http(s) URL: ${raw}`);
  }
  const token = env['TESSERA_ADMIN_TOKEN']?.trim() || undefined;
  return { baseUrl: raw.replace(/\/+$/, ''), token, timeoutMs: DEFAULT_TIMEOUT_MS };
}
