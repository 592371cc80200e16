// Importing a module registers its types, queries and mutations with the builder.
import './root.ts';
import './scalars.ts';
import './errors.ts';
import './enums.ts';
import './viewer.ts';
import './orgs.ts';
import './api-keys.ts';
import './channels.ts';
import './models.ts';
import './ledger.ts';
import './usage.ts';
