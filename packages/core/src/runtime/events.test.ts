import { describe, expect, it } from 'vitest';
import { EventBus } from './events.js';

describe('the event bus', () => {
  it('tracks whether anyone listens, so hot paths can skip building payloads', () => {
    const bus = new EventBus();
    expect(bus.watching['op:dispatch']).toBe(false);
    const seen: string[] = [];
    const fn = (e: { op: string }): void => void seen.push(e.op);
    bus.on('op:dispatch', fn);
    expect(bus.watching['op:dispatch']).toBe(true);
    bus.emit('op:dispatch', { op: 'add', device: 'cpu', shapes: [] });
    bus.off('op:dispatch', fn);
    expect(bus.watching['op:dispatch']).toBe(false);
    expect(seen).toEqual(['add']);
  });
  it('runs once-listeners once and clears the flag after', () => {
    const bus = new EventBus();
    let n = 0;
    bus.once('backward:end', () => void n++);
    bus.emit('backward:end', { nodes: 1 });
    bus.emit('backward:end', { nodes: 1 });
    expect(n).toBe(1);
    expect(bus.watching['backward:end']).toBe(false);
  });
});
