import { WireError } from '../core/errors.ts';

/** Management API errors: `{ error: { code, message } }`, the shape the connectors API uses. */
abstract class AgentApiError extends WireError {
  abstract readonly code: string;
  body(): unknown {
    return { error: { code: this.code, message: this.message } };
  }
}

export class AgentNotFoundError extends AgentApiError {
  readonly status = 404;
  readonly code = 'AgentNotFound';
  constructor(name: string) {
    super(`Agent "${name}" does not exist.`);
  }
}

export class AgentExistsError extends AgentApiError {
  readonly status = 409;
  readonly code = 'AgentExists';
  constructor(name: string) {
    super(`An agent named "${name}" already exists; choose another name.`);
  }
}

export class AgentConflictError extends AgentApiError {
  readonly status = 409;
  readonly code = 'Conflict';
  constructor() {
    super('The agent changed meanwhile; read it again and retry.');
  }
}

export class InvalidAgentError extends AgentApiError {
  readonly status = 400;
  readonly code = 'InvalidAgent';
  readonly problems: readonly { path: string; message: string }[];
  constructor(problems: readonly { path: string; message: string }[]) {
    super(`The agent is not valid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
    this.problems = problems;
  }
  override body(): unknown {
    return { error: { code: this.code, message: this.message, details: this.problems } };
  }
}
