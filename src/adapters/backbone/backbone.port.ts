/**
 * The image-features port: a pretrained CNN that turns a picture into feature maps, tapped at a
 * few named layers. The built-in anomaly model (src/anomaly-model/) learns only on top of these maps, so
 * which network produces them is an adapter's business: MobileNetV2 shipped inside the npm
 * package nsfwjs (tfjs, wasm) by default, or an operator's own ONNX export (onnxruntime-node).
 */

/** What a model artifact records of the backbone it was trained on; a different one refuses to load it. */
export interface BackboneIdentity {
  /** e.g. `nsfwjs/mobilenet_v2` or `onnx/resnet18.onnx`. */
  name: string;
  /** The package or file version the weights came from. */
  version: string;
  /** sha256 of the weight bytes (hex). */
  weightsSha256: string;
  /** The layers tapped, in order: the same weights tapped elsewhere are another backbone. */
  taps: string[];
}

/** An RGB picture, row-major, 3 floats a pixel in [0, 1]; the adapter applies its own normalisation. */
export interface BackboneInput {
  width: number;
  height: number;
  data: Float32Array;
}

/** One tapped layer's activations: row-major height × width × channels. */
export interface FeatureMap {
  tap: string;
  width: number;
  height: number;
  channels: number;
  /** Input pixels per feature cell along each side (8 for a stride-8 layer). */
  stride: number;
  data: Float32Array;
}

/** How a backbone sizes its input: one fixed size, or any size whose sides are multiples of its largest stride. */
export type InputSizing = { fixed: { width: number; height: number } } | { multiple: number };

export interface Backbone {
  readonly identity: BackboneIdentity;
  /** The rule behind inputSize, as data (a backbone on another thread is sized by it). */
  readonly sizing: InputSizing;
  /**
   * The taps whose channels make the patch descriptors the memory of normal patches compares
   * (e.g. a network's residual outputs, not its wide expansion layers); all taps when absent.
   */
  readonly memoryTaps?: readonly string[];
  /**
   * The input size for a picture of `aspect` (width / height) at about `area` pixels: a network
   * that takes any size keeps the aspect ratio (sides a multiple of its largest stride); one
   * with a fixed input returns that size.
   */
  inputSize(aspect: number, area: number): { width: number; height: number };
  /** The tapped layers' activations for one picture, in `identity.taps` order. */
  extract(input: BackboneInput): Promise<FeatureMap[]>;
  close(): Promise<void>;
}

export class BackboneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackboneError';
  }
}

/** Sides that keep `aspect` at about `area` pixels, each a multiple of `multiple` and at least one multiple; aspect clamped to 1:8. */
export function flexibleInputSize(aspect: number, area: number, multiple: number): { width: number; height: number } {
  const a = Math.min(8, Math.max(1 / 8, Number.isFinite(aspect) && aspect > 0 ? aspect : 1));
  const round = (v: number) => Math.max(multiple, Math.round(v / multiple) * multiple);
  return { width: round(Math.sqrt(area * a)), height: round(Math.sqrt(area / a)) };
}

/** inputSize by a sizing rule: the fixed size, or flexibleInputSize at the rule's multiple. */
export function inputSizeOf(sizing: InputSizing, aspect: number, area: number): { width: number; height: number } {
  return 'fixed' in sizing ? sizing.fixed : flexibleInputSize(aspect, area, sizing.multiple);
}
