/** fixtures/parity.json (recorded by fixtures/make_parity_fixtures.py), typed. */
import { fixture } from './helpers.js';

export interface LinearCase {
  xShape: number[];
  transpose: boolean;
  bias: boolean;
  node: string;
  outShape: number[];
  out: number[];
  gradX: number[];
  gradW: number[];
  gradB: number[] | null;
}

export interface BatchNormStep {
  out: number[];
  gradX: number[];
  gradW: number[] | null;
  gradB: number[] | null;
  runningMean: number[] | null;
  runningVar: number[] | null;
  numBatchesTracked: number | null;
}

export interface BatchNormCase {
  cls: '1d' | '2d';
  C: number;
  shape: number[];
  options: { momentum?: number | null; eps?: number; affine?: boolean; track_running_stats?: boolean };
  steps: BatchNormStep[];
  eval: number[];
  stateDictKeys: string[];
}

export interface SafetensorsCase {
  keys: string[];
  input: number[];
  output: number[];
  extra: Record<string, { shape: number[]; values: number[] }>;
}

export const parity = fixture<{ linear: Record<string, LinearCase>; batchnorm: Record<string, BatchNormCase>; safetensors: SafetensorsCase }>('parity.json');
