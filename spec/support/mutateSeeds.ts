// `npm run mutate` runs both simulations over the same seeds every time (jest.mutate.config.js): a
// mutant's verdict must not depend on the run, or an incremental run would trust a lucky one. Fewer
// seeds than `npm test` runs, for time; they still kill every bug the mutation issue listed.
const path = expect.getState().testPath ?? '';
process.env.GSR_SIM_FROM ??= '1';
process.env.GSR_SIM_SEEDS ??= path.includes('balancerSimulation') ? '30' : '120';
