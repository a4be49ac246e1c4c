/**
 * @nabla/checkpoint — gradient checkpointing: trade compute for memory.
 */
export { evenSegments, planSegments, autoPlan, minimumPeakPlan, estimatePlan, describePlan, type ModuleProfile, type Segment, type SegmentPlan } from './segments.js';
