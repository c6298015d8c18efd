// asl-validator ships JavaScript only; this is the part the tests use.
declare module 'asl-validator' {
  interface ValidationResult {
    isValid: boolean;
    errors: unknown[];
    errorsText(separator?: string): string;
  }
  export default function aslValidator(definition: object, options?: { checkArn?: boolean; checkPaths?: boolean }): ValidationResult;
}
