import { badRequest } from '../errors.ts';

const DAY = 24 * 3600 * 1000;
// Graph addPassword: "The default value is startDateTime + 2 years" (api/application-addpassword).
// The maximum follows the Entra admin center's longest choice (24 months) so a secret cannot silently
// outlive the rotation policy the default implies.
export const MAX_PASSWORD_LIFETIME_MS = 2 * 366 * DAY;

export function passwordValidity(
  now: number,
  requested: { startDateTime?: string | null; endDateTime?: string | null },
): { start: number; end: number } {
  const start = requested.startDateTime ? parseDate(requested.startDateTime, 'startDateTime') : now;
  const end = requested.endDateTime ? parseDate(requested.endDateTime, 'endDateTime') : addYears(start, 2);
  if (end <= start) throw badRequest('passwordCredential.endDateTime must be after startDateTime.');
  if (end <= now) throw badRequest('passwordCredential.endDateTime must be in the future.');
  if (end - start > MAX_PASSWORD_LIFETIME_MS)
    throw badRequest('passwordCredential.endDateTime must be at most 2 years after startDateTime.');
  return { start, end };
}

function parseDate(value: string, property: string): number {
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(time))
    throw badRequest(`passwordCredential.${property} '${value}' is not an ISO 8601 date and time.`);
  return time;
}

function addYears(time: number, years: number): number {
  const date = new Date(time);
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date.getTime();
}
