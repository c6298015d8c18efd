/**
 * The built-in anomaly model's entry points. Training runs in steps (training-data.ts: features
 * and the memory; classifiers.ts: the supervised scorers; thresholds.ts: operating point, review
 * band and calibration; train.ts: the score mode and the artifact); scoring.ts holds the score
 * modes' arithmetic that predict.ts and evaluate.ts share with training.
 */
export { PROFILES, type ProfileConfig, type TrainOptions } from './profiles';
export { train } from './train';
export { predict, type PredictOptions } from './predict';
export { evaluate, type EvaluateOptions } from './evaluate';
