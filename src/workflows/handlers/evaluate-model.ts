import { defineHandler, versionOnly } from './define';

/** EvaluateModel: the candidate and the serving version on the snapshot's TEST split. */
export const evaluateModel = defineHandler('EvaluateModel', versionOnly, (s, { modelVersionId }) => s.modelTraining.evaluate(modelVersionId));
export const handler = evaluateModel.lambda;
