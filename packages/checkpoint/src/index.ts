/**
 * @nabla/checkpoint — gradient checkpointing: trade compute for memory, on every device.
 *
 * @example
 * import { checkpoint, checkpointSequential, savedReport, saveMatmuls } from '@nabla/checkpoint';
 * const y = checkpoint((h) => fc2.call(fc1.call(h).relu()), x);   // keeps x, recomputes the rest in backward
 * const z = checkpointSequential(model, 'auto', x);                 // √n memory, least recompute
 */
export { checkpoint } from './checkpoint.js';
export type { CheckpointOptions } from './frame.js';
export { checkpointSequential, sequentialPlan, type SequentialModules, type SequentialStep, type SegmentsSpec } from './sequential.js';
export { savedReport, type SavedReportEntry } from './report.js';
export { isRecomputing } from './state.js';
export { saveMatmuls, saveNames, policyFrom, type CheckpointPolicy, type SaveDecision, type SavedTensorInfo } from './policy.js';
export { evenSegments, planSegments, autoPlan, minimumPeakPlan, estimatePlan, describePlan, type ModuleProfile, type Segment, type SegmentPlan } from './segments.js';
