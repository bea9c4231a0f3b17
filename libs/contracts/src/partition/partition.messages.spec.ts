import 'reflect-metadata';
import { validateContract } from '../common/validate';
import { NodeRolesRequestV1, QueryPartitionsRequestV1 } from './partition.messages';

describe('partition paging requests', () => {
  it.each([
    ['NodeRolesRequestV1', NodeRolesRequestV1, { nodeId: 'n1' }],
    ['QueryPartitionsRequestV1', QueryPartitionsRequestV1, { resource: 'orders' }],
  ])('%s takes the shared paging fields and refuses bad ones', (_, type, own) => {
    const page = { limit: 250, afterResource: 'orders', afterPartition: -1 };
    expect(validateContract(type, { ...own, ...page })).toMatchObject({ ...own, ...page });
    expect(() => validateContract(type, { ...own, limit: 0 })).toThrow(/limit/);
    expect(() => validateContract(type, { ...own, afterResource: 'a.b' })).toThrow(/afterResource/);
    expect(() => validateContract(type, { ...own, afterPartition: 1.5 })).toThrow(/afterPartition/);
    expect(() => validateContract(type, { ...own, after: 1 })).toThrow(/after/);
  });

  it('still requires a node’s id in a roles request', () => {
    expect(() => validateContract(NodeRolesRequestV1, { limit: 5 })).toThrow(/nodeId/);
  });
});
