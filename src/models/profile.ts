import { ModelProfile } from '../generated/prisma/enums';
import { type Profile } from '../anomaly-model/types';

// The model library names profiles in lower case (its file names); the database and GraphQL in upper case.
export const toDbProfile = (p: Profile): ModelProfile => (p === 'screen' ? ModelProfile.SCREEN : ModelProfile.INSPECT);
export const fromDbProfile = (p: ModelProfile): Profile => (p === ModelProfile.SCREEN ? 'screen' : 'inspect');
