import { type ExecutionContext } from '@nestjs/common';
import { TesseraError } from '@tessera/contracts';
import { type BaseConfig } from '@tessera/service-kit';
import { StreamTokenGuard } from './stream-token.guard';

const context = (query: Record<string, unknown>, authorization?: string): ExecutionContext =>
  ({
    switchToHttp: () => ({
      getRequest: () => ({ query, headers: authorization ? { authorization } : {} }),
    }),
  }) as unknown as ExecutionContext;

const guard = (adminToken: string | undefined) =>
  new StreamTokenGuard({ adminToken } as BaseConfig);

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof TesseraError ? error.code : 'not a TesseraError';
  }
};

describe(StreamTokenGuard.name, () => {
  it('lets everyone in when no admin token is configured', () => {
    expect(guard(undefined).canActivate(context({}))).toBe(true);
  });

  it('accepts the token as ?token=', () => {
    expect(guard('s3cret').canActivate(context({ token: 's3cret' }))).toBe(true);
  });

  it('accepts the token as a bearer header', () => {
    expect(guard('s3cret').canActivate(context({}, 'Bearer s3cret'))).toBe(true);
  });

  it('answers UNAUTHORIZED without a token', () => {
    expect(codeOf(() => guard('s3cret').canActivate(context({})))).toBe('UNAUTHORIZED');
    expect(codeOf(() => guard('s3cret').canActivate(context({ token: '' })))).toBe('UNAUTHORIZED');
  });

  it('answers FORBIDDEN for a wrong token, whatever its length or shape', () => {
    const sut = guard('s3cret');
    expect(codeOf(() => sut.canActivate(context({ token: 's3creT' })))).toBe('FORBIDDEN');
    expect(codeOf(() => sut.canActivate(context({ token: 's3cret-and-more' })))).toBe('FORBIDDEN');
    expect(codeOf(() => sut.canActivate(context({ token: ['s3cret', 's3cret'] })))).toBe(
      'FORBIDDEN',
    );
    expect(codeOf(() => sut.canActivate(context({ token: 's3cret' }, 'Bearer wrong')))).toBe(
      'FORBIDDEN',
    );
  });
});
