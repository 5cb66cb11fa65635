/** Guest without a default export (the runtime must say so). */
export const notMain = 1;
