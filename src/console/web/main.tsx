import { Provider } from '@urql/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { checkKey, KEY_STORAGE, openSession, type Role, type Session } from './api';
import './console.css';
import { CostsView } from './views/costs';
import { DeviceView } from './views/device';
import { FleetView } from './views/fleet';
import { ModelsView } from './views/models';
import { RepairsView } from './views/repairs';
import { ReviewerView } from './views/reviewer';
import { SettingsView } from './views/settings';
import { SurveysView } from './views/surveys';

// The console's shell: sign-in with an API key (kept in sessionStorage for this tab), the views the key's role may use,
// and a hash router (#/fleet, #/device/<id>, …) so the page is one static file set.
const VIEWS: { path: string; label: string; roles: Role[] }[] = [
  { path: 'fleet', label: 'Fleet', roles: ['ADMIN', 'OPERATOR', 'INTEGRATOR'] },
  { path: 'repairs', label: 'Repairs', roles: ['ADMIN', 'OPERATOR', 'INTEGRATOR'] },
  { path: 'surveys', label: 'Inspections', roles: ['ADMIN', 'OPERATOR', 'INTEGRATOR'] },
  { path: 'models', label: 'Models', roles: ['ADMIN', 'OPERATOR', 'INTEGRATOR'] },
  { path: 'costs', label: 'Costs', roles: ['ADMIN', 'OPERATOR', 'INTEGRATOR'] },
  { path: 'reviews', label: 'Reviews', roles: ['REVIEWER'] },
  { path: 'settings', label: 'Settings', roles: ['ADMIN', 'INTEGRATOR'] },
];

function useHash(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.replace(/^#\/?/, '').split('/').filter(Boolean);
}

function SignIn({ onSignedIn, error: initial }: { onSignedIn(s: Session): void; error: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(initial);
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const viewer = await checkKey(key.trim());
      sessionStorage.setItem(KEY_STORAGE, key.trim());
      onSignedIn(openSession(key.trim(), viewer));
    } catch (err) {
      setError(`That key was not accepted: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="signin">
      <h1>vigil console</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          data-testid="api-key"
        />
        <button type="submit" disabled={busy} data-testid="signin-button">
          Sign in
        </button>
        {error && (
          <p class="error" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
      </form>
      <p class="muted">
        The key stays in this tab only. Reviewers answer tasks on <a href="/review">/review</a>.
      </p>
    </main>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut(): void }) {
  const route = useHash();
  const role = session.viewer.role;
  const views = VIEWS.filter((v) => v.roles.includes(role));
  const [first, second] = route;
  const current =
    first === 'device' && views.some((v) => v.path === 'fleet') ? 'device' : (views.find((v) => v.path === first)?.path ?? views[0].path);
  const canPlan = role === 'ADMIN' || role === 'OPERATOR';
  // biome-ignore lint/correctness/useExhaustiveDependencies: the title follows the view
  useEffect(() => {
    document.title = `${current === 'device' ? 'Device' : views.find((v) => v.path === current)?.label} · vigil console`;
  }, [current]);
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          vigil
        </a>
        <nav aria-label="Views">
          <ul>
            {views.map((v) => (
              <li key={v.path}>
                <a href={`#/${v.path}`} aria-current={current === v.path ? 'page' : undefined} data-testid={`nav-${v.path}`}>
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" data-testid="who">
          {session.viewer.name} ({role})
        </span>
        <button type="button" class="secondary" onClick={onSignOut} data-testid="signout">
          Sign out
        </button>
      </header>
      <main class={`view view-${current}`} id="main">
        {current === 'fleet' && <FleetView />}
        {current === 'device' && <DeviceView id={second} canPlan={canPlan} />}
        {current === 'repairs' && <RepairsView canPlan={canPlan} />}
        {current === 'surveys' && <SurveysView canAssign={canPlan} />}
        {current === 'models' && <ModelsView isAdmin={role === 'ADMIN'} />}
        {current === 'costs' && <CostsView />}
        {current === 'reviews' && <ReviewerView />}
        {current === 'settings' && <SettingsView isAdmin={role === 'ADMIN'} />}
      </main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => !!sessionStorage.getItem(KEY_STORAGE));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (!key) return;
    checkKey(key)
      .then((viewer) => setSession(openSession(key, viewer)))
      .catch((err: Error) => {
        sessionStorage.removeItem(KEY_STORAGE);
        setError(`Signed out: ${err.message}`);
      })
      .finally(() => setRestoring(false));
  }, []);
  if (restoring) return <p class="muted">Signing in…</p>;
  if (!session) return <SignIn onSignedIn={setSession} error={error} />;
  const signOut = () => {
    session.close();
    sessionStorage.removeItem(KEY_STORAGE);
    location.hash = '';
    location.reload();
  };
  return (
    <Provider value={session.client}>
      <Shell session={session} onSignOut={signOut} />
    </Provider>
  );
}

render(<App />, document.getElementById('app')!);
