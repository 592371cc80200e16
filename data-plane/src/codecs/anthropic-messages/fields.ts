/** The field readers every codec shares. */
export * from '../fields.ts';
