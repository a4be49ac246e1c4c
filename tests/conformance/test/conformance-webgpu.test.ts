/**
 * The same cases on the WebGPU backend (float32: inputs made float32, float32 tolerances, the cases
 * gen.py marked float64-only skipped). Without a WebGPU adapter the suite skips and says why, as
 * packages/backend-webgpu's tests do.
 */
import { describe } from 'vitest';
import { prepareDevice } from '../src/run.js';
import { categoryTests } from './categories.js';

const ready = await prepareDevice('webgpu');
if (ready.ok) console.log(`[conformance] webgpu adapter: ${ready.description}`);
else console.log(`[conformance] webgpu SKIPPED: ${ready.reason}`);

describe.skipIf(!ready.ok)('conformance with PyTorch on webgpu', () => {
  categoryTests('webgpu');
});
