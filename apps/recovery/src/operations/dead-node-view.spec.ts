import { DeadNodeView } from './dead-node-view';

describe(DeadNodeView.name, () => {
  it('follows liveness events', () => {
    const sut = new DeadNodeView();
    sut.apply('b', 'DEAD', 1);
    sut.apply('a', 'DEAD', 2);
    sut.apply('c', 'SUSPECT', 3);
    expect(sut.dead()).toEqual(['a', 'b']);
    sut.apply('b', 'ALIVE', 4);
    expect(sut.dead()).toEqual(['a']);
    expect(sut.isDead('a')).toBe(true);
    expect(sut.isDead('c')).toBe(false);
    expect(sut.knows('c')).toBe(true);
    expect(sut.knows('z')).toBe(false);
  });

  it('fills in nodes from the snapshot', () => {
    const sut = new DeadNodeView();
    expect(sut.seeded).toBe(false);
    sut.seed(sut.mark(), [
      { nodeId: 'a', state: 'DEAD' },
      { nodeId: 'b', state: 'ALIVE' },
    ]);
    expect(sut.seeded).toBe(true);
    expect(sut.dead()).toEqual(['a']);
  });

  it('never lets a snapshot undo an event that arrived while it was asked for', () => {
    const sut = new DeadNodeView();
    sut.apply('a', 'DEAD', 5);
    const mark = sut.mark();
    sut.apply('b', 'DEAD', 6); // arrives while the snapshot is on its way
    sut.apply('a', 'ALIVE', 7);
    sut.seed(mark, [
      { nodeId: 'a', state: 'DEAD' },
      { nodeId: 'b', state: 'ALIVE' },
      { nodeId: 'c', state: 'DEAD' },
    ]);
    expect(sut.dead()).toEqual(['b', 'c']);
  });

  it('applies the events of a node in the order they were made, not as they arrive', () => {
    const sut = new DeadNodeView();
    expect(sut.apply('a', 'ALIVE', 2_000)).toBe(true);
    expect(sut.isStale('a', 1_000)).toBe(true);
    expect(sut.apply('a', 'DEAD', 1_000)).toBe(false); // redelivered after the newer ALIVE
    expect(sut.dead()).toEqual([]);
    expect(sut.apply('b', 'DEAD', 1_000)).toBe(true); // other nodes are unaffected
    expect(sut.apply('a', 'DEAD', 2_000)).toBe(true); // same time: arrival order decides
    expect(sut.dead()).toEqual(['a', 'b']);
  });

  it('lets a snapshot correct what events told before it was asked for', () => {
    const sut = new DeadNodeView();
    sut.apply('a', 'DEAD', 8);
    sut.seed(sut.mark(), [{ nodeId: 'a', state: 'ALIVE' }]);
    expect(sut.dead()).toEqual([]);
  });
});
