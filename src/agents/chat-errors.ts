import { WireError } from '../core/errors.ts';

export class ConversationNotFoundError extends WireError {
  readonly status = 404;
  constructor(message = 'The conversation does not exist.') {
    super(message);
  }
  body(): unknown {
    return { error: { code: 'ConversationNotFound', message: this.message } };
  }
}
