import { defineStep, versionOnly } from './step';

/** EvaluateModel: the candidate and the serving version on the snapshot's TEST split. */
export const evaluateModel = defineStep('EvaluateModel', versionOnly, (s, { modelVersionId }) => s.modelTraining.evaluate(modelVersionId));
