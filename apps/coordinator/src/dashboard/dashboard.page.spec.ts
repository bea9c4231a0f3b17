import { createHash } from 'node:crypto';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboard.page';

describe('dashboard page', () => {
  const scripts = [...DASHBOARD_HTML.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);

  it('is one self-contained page: nothing loaded from elsewhere', () => {
    expect(DASHBOARD_HTML.startsWith('<!doctype html>')).toBe(true);
    expect(DASHBOARD_HTML).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\//i);
    expect(scripts).toHaveLength(1);
  });

  it('lets only its own inline script run, by hash', () => {
    const hash = createHash('sha256').update(scripts[0]).digest('base64');
    expect(DASHBOARD_CSP).toContain(`script-src 'sha256-${hash}'`);
    expect(DASHBOARD_CSP).toContain("default-src 'none'");
    expect(DASHBOARD_CSP).toContain("connect-src 'self'");
  });

  it('reads its data from the stream, passing the token as a query parameter', () => {
    expect(scripts[0]).toContain("'api/v1/stream'");
    expect(scripts[0]).toContain("'?token=' + encodeURIComponent(view.token)");
    expect(scripts[0]).toContain("addEventListener('snapshot'");
  });

  it('is valid JavaScript', () => {
    expect(() => new Function(scripts[0])).not.toThrow();
  });
});
