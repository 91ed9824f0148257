import { badRequest } from '../errors.ts';

// permissionScope.value / appRole.value: what lands in `scp` / `roles`. Graph: "must not exceed 120
// characters"; "Allowed characters are : ! # $ % & ' ( ) * + , - . / : ; < = > ? @ [ ] ^ + _ ` { | } ~,
// as well as characters in the ranges 0-9, A-Z and a-z"; spaces are not allowed and it must not start
// with a dot (learn.microsoft.com/graph/api/resources/permissionscope).
const MAX_LENGTH = 120;
const ALLOWED = /^[0-9A-Za-z:!#$%&'()*+,\-./;<=>?@[\]^_`{|}~]+$/;

export function checkPermissionValue(value: string, property: string): void {
  if (value.length === 0) throw badRequest(`${property}: value must not be empty.`);
  if (value.length > MAX_LENGTH)
    throw badRequest(`${property}: value '${value.slice(0, 40)}…' is longer than ${MAX_LENGTH} characters.`);
  if (/\s/.test(value)) throw badRequest(`${property}: value '${value}' must not contain spaces.`);
  if (!ALLOWED.test(value))
    throw badRequest(`${property}: value '${value}' contains a character Entra does not allow.`);
  if (value.startsWith('.')) throw badRequest(`${property}: value '${value}' must not start with a dot.`);
}
