/**
 * `nn.amp`: core's mixed-precision tools where PyTorch users look for them
 * (`torch.cuda.amp.GradScaler`, `torch.autocast`).
 *
 * @example
 * const scaler = new nn.amp.GradScaler({ initScale: 1024 });
 * const loss = nn.amp.autocast('cpu', () => nn.crossEntropy(model.forward(x), y));
 * scaler.scale(loss).backward(); scaler.step(opt); scaler.update();
 */
import { amp } from '@nabla/core';

export const GradScaler = amp.GradScaler;
export type GradScaler = amp.GradScaler;
export type GradScalerOptions = amp.GradScalerOptions;
export type GradScalerState = amp.GradScalerState;
export const autocast = amp.autocast;
export type AutocastOptions = amp.AutocastOptions;
