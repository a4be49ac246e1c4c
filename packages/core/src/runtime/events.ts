/**
 * Lifecycle events on an eventemitter3 emitter. Per event, a flag says whether anyone listens:
 * hot paths (op dispatch, tensor creation, backward) test it before building a payload, so an
 * event nobody listens to costs one property read.
 */
import { EventEmitter } from 'eventemitter3';

export interface NablaEvents {
  'plugin:install': { name: string; version: string };
  'plugin:ready': { name: string; version: string };
  'plugin:dispose': { name: string; version: string };
  'backend:register': { device: string; description: string };
  'kernel:register': { kernel: string; device: string; dtypes: readonly string[] };
  'op:define': { op: string };
  'tensor:create': { id: number; shape: readonly number[]; dtype: string; device: string; bytes: number };
  'tensor:dispose': { id: number };
  'op:dispatch': { op: string; device: string; shapes: readonly (readonly number[])[] };
  'backward:begin': { roots: number; createGraph: boolean };
  'backward:node': { node: string; seq: number };
  'backward:end': { nodes: number };
  'grad:accumulate': { tensorId: number; shape: readonly number[] };
}

export type NablaEventName = keyof NablaEvents;

type Listener<K extends NablaEventName> = (payload: NablaEvents[K]) => void;

/**
 * Typed facade over an eventemitter3 emitter. `watching[name]` is true while at least one listener
 * is attached; emitters test it before building a payload.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  readonly watching: Record<NablaEventName, boolean> = {
    'plugin:install': false,
    'plugin:ready': false,
    'plugin:dispose': false,
    'backend:register': false,
    'kernel:register': false,
    'op:define': false,
    'tensor:create': false,
    'tensor:dispose': false,
    'op:dispatch': false,
    'backward:begin': false,
    'backward:node': false,
    'backward:end': false,
    'grad:accumulate': false,
  };

  private refresh(name: NablaEventName): void {
    this.watching[name] = this.emitter.listenerCount(name) > 0;
  }

  on<K extends NablaEventName>(name: K, fn: Listener<K>): this {
    this.emitter.on(name, fn);
    this.refresh(name);
    return this;
  }

  once<K extends NablaEventName>(name: K, fn: Listener<K>): this {
    const wrapped: Listener<K> = (p) => {
      this.off(name, wrapped);
      fn(p);
    };
    return this.on(name, wrapped);
  }

  off<K extends NablaEventName>(name: K, fn?: Listener<K>): this {
    this.emitter.off(name, fn);
    this.refresh(name);
    return this;
  }

  emit<K extends NablaEventName>(name: K, payload: NablaEvents[K]): void {
    this.emitter.emit(name, payload);
  }

  listenerCount(name: NablaEventName): number {
    return this.emitter.listenerCount(name);
  }

  removeAllListeners(name?: NablaEventName): this {
    this.emitter.removeAllListeners(name);
    for (const k of Object.keys(this.watching) as NablaEventName[]) this.refresh(k);
    return this;
  }
}
