/**
 * Reading members of a JSON 1.1 request body the way the service does: a member of the wrong JSON type is a
 * SerializationException, a missing required member or a violated length is a ValidationException naming the
 * member in lowerCamelCase (AWS's one-line constraint messages).
 */
import { AwsError, validation } from "./errors.js";

export type Input = Record<string, unknown>;

const camel = (member: string): string => member.charAt(0).toLowerCase() + member.slice(1);

function wrongType(member: string, expected: string): AwsError {
  return new AwsError(
    "SerializationException",
    `Unexpected value type for '${member}': expected ${expected}`,
  );
}

export function optString(
  input: Input,
  member: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw wrongType(member, "a string");
  if (value.length < min) {
    throw validation(camel(member), `Member must have length greater than or equal to ${min}`, value);
  }
  if (value.length > max)
    throw validation(camel(member), `Member must have length less than or equal to ${max}`);
  return value;
}

export function reqString(input: Input, member: string, min = 0, max = Number.MAX_SAFE_INTEGER): string {
  const value = optString(input, member, min, max);
  if (value === undefined) throw validation(camel(member), "Member must not be null", "null");
  return value;
}

export function optInt(input: Input, member: string, min: number, max: number): number | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) throw wrongType(member, "an integer");
  if (value < min)
    throw validation(camel(member), `Member must have value greater than or equal to ${min}`, String(value));
  if (value > max)
    throw validation(camel(member), `Member must have value less than or equal to ${max}`, String(value));
  return value;
}

export function optBool(input: Input, member: string): boolean | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw wrongType(member, "a boolean");
  return value;
}

export function optList(input: Input, member: string, min: number, max: number): unknown[] | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw wrongType(member, "a list");
  if (value.length < min)
    throw validation(camel(member), `Member must have length greater than or equal to ${min}`);
  if (value.length > max)
    throw validation(camel(member), `Member must have length less than or equal to ${max}`);
  return value;
}

export function optStringList(
  input: Input,
  member: string,
  min: number,
  max: number,
  itemMax: number,
): string[] | undefined {
  const list = optList(input, member, min, max);
  if (list === undefined) return undefined;
  return list.map((item) => {
    if (typeof item !== "string") throw wrongType(member, "a list of strings");
    if (item.length < 1 || item.length > itemMax) {
      throw validation(
        camel(member),
        `Member must satisfy constraint: [Member must have length between 1 and ${itemMax}]`,
      );
    }
    return item;
  });
}

/** `[{Key, Value}]` tags, AWS limits: key 1–128, value 0–256, at most 50. */
export function optTags(input: Input, member: string): Array<{ Key: string; Value: string }> | undefined {
  const list = optList(input, member, 0, 50);
  if (list === undefined) return undefined;
  return list.map((item) => {
    if (item === null || typeof item !== "object") throw wrongType(member, "a list of tags");
    const tag = item as Input;
    return { Key: reqString(tag, "Key", 1, 128), Value: optString(tag, "Value", 0, 256) ?? "" };
  });
}
