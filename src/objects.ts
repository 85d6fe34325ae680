/** `value` without its undefined fields (an absent field in a patch leaves the stored one alone). */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The names of `value`'s fields that are set, as audit entries list them. */
export const definedFields = (value: object): string[] => Object.keys(definedOnly(value));
