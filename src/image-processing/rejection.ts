/** Why an upload was not accepted; stored on the image and shown to whoever uploaded it. */
export enum RejectionReason {
  EMPTY = 'EMPTY',
  TOO_LARGE = 'TOO_LARGE',
  UNSUPPORTED_TYPE = 'UNSUPPORTED_TYPE',
  TOO_MANY_PIXELS = 'TOO_MANY_PIXELS',
  TOO_SMALL = 'TOO_SMALL',
  CORRUPT = 'CORRUPT',
}

export class ImageRejected extends Error {
  constructor(
    readonly reason: RejectionReason,
    message: string,
  ) {
    super(message);
    this.name = 'ImageRejected';
  }
}
