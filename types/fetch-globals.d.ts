// The generated SDK (clients/typescript) names the DOM's BodyInit; Node's fetch has the same type in undici.
type BodyInit = import('undici-types').BodyInit;
