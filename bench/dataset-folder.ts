import fs from 'node:fs';
import path from 'node:path';
import { type DatasetItem } from '../src/anomaly-model/dataset';

/** The mask beside an image in a dataset folder: <name>.mask.png. */
export const maskPathOf = (root: string, item: DatasetItem) => path.join(root, item.id.replace(/\.[^.]+$/, '.mask.png'));

/** Items (and their masks) copied into `dir` in the dataset-folder layout, for importDataset. */
export function writeFolder(datasetRoot: string, dir: string, items: DatasetItem[]): string {
  for (const item of items) {
    const target = path.join(dir, item.id);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(datasetRoot, item.id), target);
    if (item.loadMask) fs.copyFileSync(maskPathOf(datasetRoot, item), target.replace(/\.[^.]+$/, '.mask.png'));
  }
  return dir;
}
