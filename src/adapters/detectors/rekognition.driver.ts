import {
  DetectCustomLabelsCommand,
  DetectLabelsCommand,
  type BoundingBox,
  type Image,
  type Label,
  type RekognitionClient,
} from '@aws-sdk/client-rekognition';
import { type Box } from '../../common/box';
import { type DetectorImage, type ScreenDetector, type ScreenResult } from './detector.port';
import { callAws } from '../aws-errors';
import { assertRekognitionLimits } from './limits';

type ScreenLabel = ScreenResult['labels'][number];

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** Rekognition's ratio box (Left/Top) → a Box, clipped to the picture (Rekognition's can reach past an edge). */
function toBox(box: BoundingBox | undefined): Box | null {
  if (box?.Left === undefined || box.Top === undefined || box.Width === undefined || box.Height === undefined) return null;
  const x = clamp01(box.Left);
  const y = clamp01(box.Top);
  return { x, y, width: clamp01(box.Left + box.Width) - x, height: clamp01(box.Top + box.Height) - y };
}

/** Rekognition reads the picture from S3 itself when it is there; otherwise it gets the bytes. */
async function rekognitionImage(image: DetectorImage): Promise<Image> {
  return image.bucket !== null ? { S3Object: { Bucket: image.bucket, Name: image.key } } : { Bytes: await image.read() };
}

/**
 * Flagged: the best matching label's confidence. Not flagged: Rekognition returns nothing under
 * MinConfidence, so all we know is that every label of interest scored below it; we take the
 * middle of that range as the chance one was there: 1 − (MinConfidence/100)/2, 0.7 at MinConfidence 60.
 */
function screenConfidence(matches: ScreenLabel[], minConfidence: number): number {
  if (matches.length > 0) return Math.max(...matches.map((l) => l.confidence));
  return 1 - minConfidence / 200;
}

export interface RekognitionLabelsOptions {
  /** Label names that flag a picture, matched case-insensitively against a label, its aliases and its parents. */
  labels: string[];
  /** 0..100, as Rekognition takes it. */
  minConfidence: number;
}

/** Stage 1 with Rekognition's general labels: flags a picture showing any label of interest. */
export class RekognitionLabelsDetector implements ScreenDetector {
  readonly name = 'rekognition-labels';
  private readonly wanted: Set<string>;

  constructor(
    private readonly client: RekognitionClient,
    private readonly options: RekognitionLabelsOptions,
  ) {
    this.wanted = new Set(options.labels.map((l) => l.toLowerCase()));
  }

  /** The label model's version only comes back in answers; each answer's LabelModelVersion is kept in raw. */
  async versionFor(): Promise<string> {
    return 'rekognition-detect-labels';
  }

  async screen(image: DetectorImage): Promise<ScreenResult> {
    assertRekognitionLimits(image, 'DetectLabels');
    const input = { Image: await rekognitionImage(image), MinConfidence: this.options.minConfidence };
    const response = await callAws('rekognition:DetectLabels', () => this.client.send(new DetectLabelsCommand(input)));
    const labels = response.Labels ?? [];
    const matches = labels.filter((l) => this.isWanted(l)).map(toScreenLabel);
    return {
      flagged: matches.length > 0,
      confidence: screenConfidence(matches, this.options.minConfidence),
      labels: matches,
      modelVersion: await this.versionFor(),
      raw: { LabelModelVersion: response.LabelModelVersion ?? null, Labels: labels },
    };
  }

  private isWanted(label: Label): boolean {
    const names = [label.Name, ...(label.Aliases ?? []).map((a) => a.Name), ...(label.Parents ?? []).map((p) => p.Name)];
    return names.some((n) => n !== undefined && this.wanted.has(n.toLowerCase()));
  }
}

function toScreenLabel(label: Label): ScreenLabel {
  return {
    name: label.Name ?? 'unnamed',
    confidence: clamp01((label.Confidence ?? 0) / 100),
    boxes: (label.Instances ?? []).map((i) => toBox(i.BoundingBox)).filter((b): b is Box => b !== null),
  };
}

export interface RekognitionCustomLabelsOptions {
  projectVersionArn: string;
  /** 0..100, as Rekognition takes it. */
  minConfidence: number;
}

/** Stage 1 with a Rekognition Custom Labels model: every label it returns is a finding. */
export class RekognitionCustomLabelsDetector implements ScreenDetector {
  readonly name = 'rekognition-custom-labels';

  constructor(
    private readonly client: RekognitionClient,
    private readonly options: RekognitionCustomLabelsOptions,
  ) {}

  /** The version name in arn:aws:rekognition:…:project/<project>/version/<version>/<timestamp>. */
  async versionFor(): Promise<string> {
    return /\/version\/([^/]+)\//.exec(this.options.projectVersionArn)?.[1] ?? this.options.projectVersionArn;
  }

  async screen(image: DetectorImage): Promise<ScreenResult> {
    assertRekognitionLimits(image, 'DetectCustomLabels');
    const input = {
      ProjectVersionArn: this.options.projectVersionArn,
      Image: await rekognitionImage(image),
      MinConfidence: this.options.minConfidence,
    };
    const response = await callAws('rekognition:DetectCustomLabels', () => this.client.send(new DetectCustomLabelsCommand(input)));
    const found = response.CustomLabels ?? [];
    const labels = found.map((l) => {
      const box = toBox(l.Geometry?.BoundingBox);
      return { name: l.Name ?? 'unnamed', confidence: clamp01((l.Confidence ?? 0) / 100), boxes: box ? [box] : [] };
    });
    return {
      flagged: labels.length > 0,
      confidence: screenConfidence(labels, this.options.minConfidence),
      labels,
      modelVersion: await this.versionFor(),
      raw: { CustomLabels: found },
    };
  }
}
