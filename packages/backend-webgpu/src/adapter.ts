/**
 * Getting a GPUDevice: from an injected `GPU` object, from `navigator.gpu` in browsers, or in
 * Node from Dawn (the `webgpu` npm package).
 *
 * Dawn's `create(flags)` returns the object that owns the native instance; if it is garbage
 * collected while a device made from it is alive, Dawn crashes the process. Instances are
 * therefore kept in a module-level map for the life of the process (one per set of flags), and
 * the backend also holds on to the one it used.
 */

export interface AdapterOptions {
  /** A WebGPU entry point to use instead of `navigator.gpu` / Dawn (tests, custom setups). */
  readonly gpu?: GPU;
  /**
   * Node only: flags for Dawn's `create()`, e.g. `['backend=opengl']` or `['backend=vulkan']`
   * (see the README for the software adapters).
   */
  readonly dawnFlags?: readonly string[];
  /** `requestAdapter`'s feature level: 'compatibility' for Dawn's OpenGL backend. */
  readonly featureLevel?: 'core' | 'compatibility';
  readonly powerPreference?: 'low-power' | 'high-performance';
  /** Allow a fallback (software) adapter when the system offers one. Default true. */
  readonly forceFallbackAdapter?: boolean;
  /**
   * How float16 tensors compute. `'auto'` (default): in WGSL's native `f16` when the adapter offers
   * `shader-f16` (the device is requested with it), else as `'packed'`. `'native'`: the same, but
   * an adapter without `shader-f16` is an error. `'packed'`: two halves per u32 word, converted by
   * integer code around f32 kernels, on every adapter (for A/B comparisons and tests).
   * bfloat16 is always packed: WGSL has no bf16 type.
   */
  readonly float16?: 'auto' | 'native' | 'packed';
}

export interface AcquiredDevice {
  readonly gpu: GPU;
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  /** "google swiftshader (vulkan; SwiftShader driver 5.0.0)". */
  readonly description: string;
}

type DawnModule = { create(flags: string[]): GPU; globals: Record<string, unknown> };

const dawnInstances = new Map<string, GPU>();
let dawnModule: Promise<DawnModule> | null = null;

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

async function loadDawn(): Promise<DawnModule> {
  // A computed specifier keeps browser bundlers from trying to bundle the native addon.
  const specifier = 'webgpu';
  dawnModule ??= import(/* @vite-ignore */ specifier) as Promise<DawnModule>;
  return dawnModule;
}

/** The `GPU` object to ask for an adapter, and a word on where it came from. */
export async function resolveGpu(options: AdapterOptions): Promise<{ gpu: GPU; source: string }> {
  if (options.gpu) return { gpu: options.gpu, source: 'injected' };
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu && !isNode()) return { gpu: nav.gpu, source: 'browser' };
  if (!isNode()) throw new Error('webgpu: navigator.gpu is not available in this browser (WebGPU disabled or unsupported)');
  let mod: DawnModule;
  try {
    mod = await loadDawn();
  } catch (e) {
    throw new Error(`webgpu: cannot load the 'webgpu' package (Dawn for Node), an optional peer dependency that Node needs and browsers do not: install it with \`npm i webgpu\` (${(e as Error).message})`, { cause: e });
  }
  const flags = [...(options.dawnFlags ?? [])];
  const key = flags.join('\u0000');
  let gpu = dawnInstances.get(key);
  if (gpu === undefined) {
    gpu = mod.create(flags);
    dawnInstances.set(key, gpu);
  }
  return { gpu, source: `dawn ${backendOfFlags(flags)}` };
}

/** Dawn's backend as chosen by its flags (its default on Linux is Vulkan). */
export function backendOfFlags(flags: readonly string[]): string {
  for (const f of flags) {
    const m = /^backend=(.+)$/.exec(f);
    if (m) return m[1]!;
  }
  if (typeof process !== 'undefined') {
    if (process.platform === 'darwin') return 'metal';
    if (process.platform === 'win32') return 'd3d12';
  }
  return 'vulkan';
}

/** Raises the device limits we rely on to what the adapter offers. */
function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const want = [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxStorageBuffersPerShaderStage',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
  ] as const;
  const out: Record<string, number> = {};
  const limits = adapter.limits as unknown as Record<string, number>;
  for (const k of want) if (typeof limits[k] === 'number') out[k] = limits[k];
  return out;
}

export function describeAdapter(adapter: GPUAdapter, source: string): string {
  const info = adapter.info;
  const name = [info?.vendor, info?.architecture].filter((s) => s).join(' ') || info?.device || 'unknown adapter';
  const details = [source.replace(/^dawn /, ''), info?.description, info?.isFallbackAdapter ? 'fallback adapter' : '']
    .filter((s) => s)
    .join('; ');
  return `${name} (${details})`;
}

async function requestAdapter(options: AdapterOptions): Promise<{ gpu: GPU; adapter: GPUAdapter; source: string }> {
  const { gpu, source } = await resolveGpu(options);
  const req: GPURequestAdapterOptions & { featureLevel?: string } = {};
  if (options.featureLevel) req.featureLevel = options.featureLevel;
  if (options.powerPreference) req.powerPreference = options.powerPreference;
  if (options.forceFallbackAdapter) req.forceFallbackAdapter = true;
  const adapter = await gpu.requestAdapter(req);
  if (!adapter) {
    throw new Error(
      `webgpu: no WebGPU adapter is available (${source}${options.featureLevel ? `, featureLevel ${options.featureLevel}` : ''}). ` +
        `Without a GPU on Linux use a software adapter: SwiftShader (env VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json ` +
        `from Debian's chromium package) or Mesa llvmpipe (webgpuBackend({ dawnFlags: ['backend=opengl'], featureLevel: 'compatibility' }) ` +
        `with env EGL_PLATFORM=surfaceless)`,
    );
  }
  return { gpu, adapter, source };
}

/** The description of the adapter `options` lead to (no device is made), or an error. */
export async function acquireAdapterOnly(options: AdapterOptions): Promise<string> {
  const { adapter, source } = await requestAdapter(options);
  return describeAdapter(adapter, source);
}

/** Adapter and device, or an error saying what was tried. */
export async function acquireDevice(options: AdapterOptions): Promise<AcquiredDevice> {
  const { gpu, adapter, source } = await requestAdapter(options);
  const description = describeAdapter(adapter, source);
  const mode = options.float16 ?? 'auto';
  // A hand-made GPU object (tests, wrappers) may leave out `features`: then there is no shader-f16.
  const hasF16 = adapter.features?.has('shader-f16') === true;
  if (mode === 'native' && !hasF16) {
    throw new Error(`webgpu: float16: 'native' needs an adapter with the 'shader-f16' feature, and ${description} lacks it (use float16: 'auto' or 'packed')`);
  }
  const requiredFeatures: GPUFeatureName[] = hasF16 && mode !== 'packed' ? ['shader-f16'] : [];
  const device = await adapter.requestDevice({ requiredLimits: requiredLimits(adapter), requiredFeatures });
  return { gpu, adapter, device, description };
}
