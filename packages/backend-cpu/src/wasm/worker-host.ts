/**
 * Where the worker pool's threads come from: Node's `worker_threads`, or a browser's Web Workers,
 * chosen at run time. The pool (`pool.ts`) hands a host the source text of its worker and the
 * start-up data (the shared wasm memory, the compiled module, the control block); the host starts
 * the worker, delivers the data, reports failures and terminates it. Everything after start-up
 * goes through the shared memory, never through messages, so the two hosts differ only here.
 *
 * Browsers give threads only to a cross-origin-isolated page (served with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`):
 * elsewhere there is no SharedArrayBuffer, and `workerHost()` answers why instead of a host (the
 * backend runs one thread and reports it). The worker's script is a Blob URL made from the source
 * text, not a separate file: it survives any bundler (nothing for it to resolve or rename) and
 * plain ESM alike; a page whose Content-Security-Policy forbids `blob:` workers gets one thread,
 * with the failure as the reason.
 *
 * A browser's main thread may not block in `Atomics.wait`, so `callerMayBlock` tells the pool to
 * spin there instead (the caller has just run its own share of the work, so the spin is short).
 */

/** A started worker. */
export interface HostedWorker {
  /** Stops the worker; resolves once it is gone (Node) or the browser was told (Web Workers). */
  terminate(): Promise<void>;
}

/** Starts workers on one platform. */
export interface WorkerHost {
  /** `'worker_threads'` (Node) or `'web-worker'` (a cross-origin-isolated browser page or worker). */
  readonly kind: 'worker_threads' | 'web-worker';
  /** Whether the calling thread may sleep in `Atomics.wait` (false on a browser's main thread). */
  readonly callerMayBlock: boolean;
  /**
   * Starts a worker that runs `body` (statements that use nothing but the globals of a worker and
   * the binding `workerData`) with `workerData` = `data`, structured-cloned: shared memories,
   * SharedArrayBuffers and compiled modules arrive shared, not copied. `onError` gets the worker's
   * uncaught failure.
   */
  spawn(body: string, data: unknown, onError: (e: Error) => void): HostedWorker;
}

/** The most threads `'auto'` asks for. */
export const AUTO_MAX_THREADS = 8;

interface NodeWorker {
  terminate(): Promise<number>;
  unref(): void;
  on(event: 'error', fn: (e: Error) => void): void;
}
type NodeWorkerCtor = new (src: string, opts: { eval: true; workerData: unknown }) => NodeWorker;

/** The browser's Worker, as far as the host uses it (the package compiles without DOM types). */
interface WebWorker {
  onerror: ((e: { message?: string; preventDefault(): void }) => void) | null;
  onmessageerror: (() => void) | null;
  postMessage(data: unknown): void;
  terminate(): void;
}
type WebWorkerCtor = new (url: string, opts?: { name?: string }) => WebWorker;
interface BrowserGlobals {
  Worker?: WebWorkerCtor;
  crossOriginIsolated?: boolean;
  Blob?: new (parts: string[], opts: { type: string }) => unknown;
  URL?: { createObjectURL(blob: unknown): string };
  navigator?: { hardwareConcurrency?: number };
}
const browser = globalThis as unknown as BrowserGlobals;

function isNode(): boolean {
  return typeof process !== 'undefined' && process.versions?.node !== undefined;
}

/**
 * Whether this thread may block in `Atomics.wait`: browsers throw on their main thread. A
 * zero-timeout wait on a value that differs returns 'not-equal' at once where it is allowed.
 */
export function mayBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

let nodeHost: Promise<WorkerHost | string> | null = null;

function nodeWorkerHost(): Promise<WorkerHost | string> {
  return (nodeHost ??= (async () => {
    let Worker: NodeWorkerCtor;
    try {
      Worker = ((await import('node:worker_threads' as string)) as { Worker: NodeWorkerCtor }).Worker;
    } catch (e) {
      return `node:worker_threads is unavailable here (${(e as Error).message})`;
    }
    return {
      kind: 'worker_threads',
      callerMayBlock: true,
      spawn(body, data, onError) {
        // A dynamic import reads the start-up data both where eval'd code is a script and where it
        // is a module (a parent run with --input-type=module passes that to its workers: no require).
        const src = `import('node:worker_threads').then(({ workerData }) => {\n  (function (workerData) {\n${body}\n  })(workerData);\n});`;
        const w = new Worker(src, { eval: true, workerData: data });
        // A runtime the program forgets to dispose must not keep the process alive.
        w.unref();
        w.on('error', onError);
        return {
          async terminate() {
            await w.terminate();
          },
        };
      },
    } satisfies WorkerHost;
  })());
}

/** One Blob URL per worker source for the page's lifetime (a few KiB; no URL per worker to revoke). */
const blobUrls = new Map<string, string>();

function webWorkerHost(): WorkerHost | string {
  const { Worker, Blob, URL } = browser;
  if (typeof Worker !== 'function' || typeof Blob !== 'function' || typeof URL?.createObjectURL !== 'function') {
    return 'this environment has no Web Workers';
  }
  if (browser.crossOriginIsolated !== true || typeof SharedArrayBuffer === 'undefined') {
    return 'the page is not cross-origin isolated, so it has no SharedArrayBuffer for workers to share (serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  const callerMayBlock = mayBlock();
  return {
    kind: 'web-worker',
    callerMayBlock,
    spawn(body, data, onError) {
      let url = blobUrls.get(body);
      if (url === undefined) {
        // The start-up data arrives as the first message; the worker then never returns to its
        // event loop (it sleeps in Atomics.wait between jobs), so no later message is read.
        const src = `self.onmessage = function (event) {\n  self.onmessage = null;\n  (function (workerData) {\n${body}\n  })(event.data);\n};\n`;
        url = URL!.createObjectURL(new Blob([src], { type: 'text/javascript' }));
        blobUrls.set(body, url);
      }
      const w = new Worker(url, { name: 'nabla-cpu' });
      w.onerror = (e) => {
        e.preventDefault();
        // A load refused by the page's Content-Security-Policy comes with no message at all.
        onError(new Error(e.message || 'the Web Worker did not load (no message: a Content-Security-Policy whose worker-src forbids blob: URLs does this)'));
      };
      w.onmessageerror = () => onError(new Error('a Web Worker could not receive its start-up data'));
      w.postMessage(data);
      return {
        terminate() {
          w.terminate();
          return Promise.resolve();
        },
      };
    },
  };
}

/**
 * The host for this environment, or why worker threads cannot run here. Node gets
 * `worker_threads`; a browser page or worker gets Web Workers when it is cross-origin isolated.
 */
export async function workerHost(): Promise<WorkerHost | string> {
  if (isNode()) return nodeWorkerHost();
  return webWorkerHost();
}

/**
 * `'auto'`: the cores this process may use (Node's `availableParallelism`, a browser's
 * `navigator.hardwareConcurrency`), capped at `AUTO_MAX_THREADS`; 1 where neither is known.
 */
export async function autoThreads(): Promise<number> {
  const cap = (n: number): number => Math.max(1, Math.min(AUTO_MAX_THREADS, Math.floor(n)));
  if (isNode()) {
    try {
      const os = (await import('node:os' as string)) as { availableParallelism?: () => number; cpus: () => unknown[] };
      return cap(os.availableParallelism?.() ?? os.cpus().length);
    } catch {
      return 1;
    }
  }
  const n = browser.navigator?.hardwareConcurrency;
  return typeof n === 'number' && n >= 1 ? cap(n) : 1;
}
