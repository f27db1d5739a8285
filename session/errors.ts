/** A mistake in how tsprofile was invoked (a bad option or pattern). The CLI prints the message alone and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
