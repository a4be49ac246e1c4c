/**
 * The webgpu backend's options checked before any adapter is asked for: an option of the wrong
 * kind is refused with an error naming it, what it got and what it takes. Without this,
 * `float16: 'nativ'` ran as 'auto' and `maxWorkgroupsPerDimension: 0` reached the dispatcher.
 */
const CHOICES = {
  float16: ['auto', 'native', 'packed'],
  featureLevel: ['core', 'compatibility'],
  powerPreference: ['low-power', 'high-performance'],
} as const;

/** `options`: a `WebGpuBackendOptions` (typed loosely here: a caller's JavaScript may pass anything). */
export function checkOptions(options: object): void {
  const o = options as Record<string, unknown>;
  const got = (v: unknown): string => `got ${typeof v} ${Array.isArray(v) ? JSON.stringify(v) : String(v)}`;
  for (const [name, allowed] of Object.entries(CHOICES)) {
    const v = o[name];
    if (v !== undefined && !(allowed as readonly unknown[]).includes(v)) {
      throw new Error(`webgpu backend: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, ${got(v)}`);
    }
  }
  const fallback = o.forceFallbackAdapter;
  if (fallback !== undefined && typeof fallback !== 'boolean') throw new Error(`webgpu backend: forceFallbackAdapter must be true or false, ${got(fallback)}`);
  const flags = o.dawnFlags;
  if (flags !== undefined && !(Array.isArray(flags) && flags.every((f) => typeof f === 'string'))) {
    throw new Error(`webgpu backend: dawnFlags must be an array of strings such as ['backend=vulkan'], ${got(flags)}`);
  }
  const wg = o.maxWorkgroupsPerDimension;
  if (wg !== undefined && !(typeof wg === 'number' && Number.isInteger(wg) && wg >= 1)) throw new Error(`webgpu backend: maxWorkgroupsPerDimension must be a positive integer, ${got(wg)}`);
}
