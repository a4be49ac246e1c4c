/**
 * @nabla/hooks — see inside training: gradient and activation statistics with an offline HTML
 * report, NaN hunting, clipping hooks, global module hooks, saved-tensor presets, and pictures of
 * the autograd graph (DOT, SVG, HTML) drawn without graphviz.
 *
 * @example
 * import { watch, nanDetector, toSVG } from '@nabla/hooks';
 * const rec = watch(model, { log: 'all', every: 100 });
 * const det = nanDetector(model);
 * // training: loss.backward(); rec.step(); await det.check();
 * writeFileSync('report.html', rec.toHTML());
 * writeFileSync('graph.svg', toSVG(loss, { params: model.namedParameters() }));
 */
export { hooks, VERSION } from './plugin.js';
export { watch, Recorder, GradientRecorder, ActivationRecorder, type LogWhat, type RecorderOptions, type WatchOptions, type StepRecord, type RecorderJSON } from './recorder.js';
export { statsVector, parseStats, type Stats, type Histogram } from './stats.js';
export { toCSV, toHTML as reportHTML, type ReportOptions } from './report.js';
export { nanDetector, type NanDetector, type NanDetectorOptions, type NanReport } from './nan-detector.js';
export { gradientClipHook, type ClipSpec, type ClipOptions } from './clip.js';
export { registerModuleForwardPreHook, registerModuleForwardHook, registerModuleFullBackwardHook, registerModuleFullBackwardPreHook } from './module-hooks.js';
export { saveOnCpu, saveAsFloat16 } from './presets.js';
export { toDot, toSVG, toGraphHTML, toGraphHTML as toHTML, graphToDot, graphToSVG, FILL } from './dot.js';
export { buildGraph, moduleScopes, ModuleScopes, sizeStr, type GraphOptions, type VizGraph, type VizNode, type VizEdge, type VizKind } from './graph.js';
export { layout, type Layout, type Box } from './layout.js';
