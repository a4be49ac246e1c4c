/** The version of @nabla/core, checked against plugins' declared ranges. Kept in sync with package.json. */
export const VERSION = '0.1.0';
