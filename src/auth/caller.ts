import { type Role } from './roles';

/** Who is calling: the API key behind the request. */
export interface Caller {
  apiKeyId: string;
  name: string;
  role: Role;
}
