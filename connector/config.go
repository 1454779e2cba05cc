package connector

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/contract"
)

// Defaults of a Config.
const (
	DefaultListen          = "127.0.0.1:8088"
	DefaultRefreshInterval = 5 * time.Minute
	DefaultRequestTimeout  = 30 * time.Second
	DefaultRetryBase       = 100 * time.Millisecond
	DefaultRetryMax        = 30 * time.Second
	DefaultDependencyWait  = 2 * time.Minute
)

// Environment variables the connector reads beyond the contract's.
const (
	EnvBugs            = "CONNECTOR_BUGS"             // comma-separated bug switches
	EnvConcurrency     = "CONNECTOR_CONCURRENCY"      // posting workers; 0 or unset = from governanceLimits
	EnvRefreshInterval = "CONNECTOR_REFRESH_INTERVAL" // item/stock cache refresh, a Go duration
)

// Config is the reference connector's configuration. The zero values of the optional
// fields take the defaults above.
type Config struct {
	NetSuiteURL string               // NETSUITE_BASE_URL
	NetSuite    netsuite.Credentials // NETSUITE_ACCOUNT_ID, …_CONSUMER_KEY/SECRET, …_TOKEN_ID/SECRET
	GatewayURL  string               // GATEWAY_BASE_URL; empty: card refunds are dead-lettered
	GatewayKey  string               // GATEWAY_API_KEY
	Listen      string               // CONNECTOR_LISTEN
	DataDir     string               // CONNECTOR_DATA_DIR: holds outbox.db; required unless memory-outbox

	// Concurrency is the number of posting workers, which is also the most NetSuite
	// requests the workers have in flight. 0 reads governanceLimits and leaves one
	// slot of the account's limit free (for the cache refresh), at least 1.
	Concurrency int
	Bugs        []Bug
	Logger      *slog.Logger // nil: discard
	// HTTPClient carries NetSuite and gateway requests; nil builds one with
	// RequestTimeout. Its Timeout, when set, bounds every request.
	HTTPClient      *http.Client
	RequestTimeout  time.Duration
	RefreshInterval time.Duration // item/stock cache refresh through SuiteQL
	RetryBase       time.Duration // first backoff ceiling; doubles per attempt (full jitter)
	RetryMax        time.Duration // backoff ceiling
	// DependencyWait bounds how long a return or exchange waits for an original sale
	// this connector has not seen (still in an offline register's queue, or sold before
	// the connector) before it is posted anyway, so that NetSuite decides. An original
	// that is pending here is waited for until it is posted, however long NetSuite is
	// down; one that was dead-lettered dead-letters its returns at once.
	DependencyWait time.Duration
	Seed           int64            // seeds the backoff jitter; 0 picks one
	Clock          func() time.Time // nil: time.Now
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.RetryBase <= 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.DependencyWait <= 0 {
		c.DependencyWait = DefaultDependencyWait
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// ConfigFromEnv reads the environment contract (contract.Env*) and the connector's own
// variables through getenv (os.Getenv, or a lookup into an env file).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		NetSuiteURL: getenv(contract.EnvNetSuiteBaseURL),
		NetSuite: netsuite.Credentials{
			AccountID:      getenv(contract.EnvNetSuiteAccountID),
			ConsumerKey:    getenv(contract.EnvNetSuiteConsumerKey),
			ConsumerSecret: getenv(contract.EnvNetSuiteConsumerSecret),
			TokenID:        getenv(contract.EnvNetSuiteTokenID),
			TokenSecret:    getenv(contract.EnvNetSuiteTokenSecret),
		},
		GatewayURL: getenv(contract.EnvGatewayBaseURL),
		GatewayKey: getenv(contract.EnvGatewayAPIKey),
		Listen:     getenv(contract.EnvConnectorListen),
		DataDir:    getenv(contract.EnvConnectorDataDir),
	}
	if v := getenv(EnvBugs); v != "" {
		bugs, err := ParseBugs([]string{v})
		if err != nil {
			return c, fmt.Errorf("%s: %w", EnvBugs, err)
		}
		c.Bugs = bugs
	}
	if v := getenv(EnvConcurrency); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("%s=%q: want a number of workers ≥ 0", EnvConcurrency, v)
		}
		c.Concurrency = n
	}
	if v := getenv(EnvRefreshInterval); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("%s=%q: want a positive duration such as 5m", EnvRefreshInterval, v)
		}
		c.RefreshInterval = d
	}
	return c, nil
}

// Validate reports the first missing or malformed setting, naming its variable.
func (c *Config) Validate() error {
	if c.NetSuiteURL == "" {
		return fmt.Errorf("%s is not set", contract.EnvNetSuiteBaseURL)
	}
	for _, v := range []struct{ name, val string }{
		{contract.EnvNetSuiteAccountID, c.NetSuite.AccountID},
		{contract.EnvNetSuiteConsumerKey, c.NetSuite.ConsumerKey},
		{contract.EnvNetSuiteConsumerSecret, c.NetSuite.ConsumerSecret},
		{contract.EnvNetSuiteTokenID, c.NetSuite.TokenID},
		{contract.EnvNetSuiteTokenSecret, c.NetSuite.TokenSecret},
	} {
		if v.val == "" {
			return fmt.Errorf("%s is not set", v.name)
		}
	}
	if c.GatewayURL != "" && c.GatewayKey == "" {
		return fmt.Errorf("%s is set but %s is not", contract.EnvGatewayBaseURL, contract.EnvGatewayAPIKey)
	}
	memory := false
	for _, b := range c.Bugs {
		if _, ok := bugDescriptions[b]; !ok {
			return fmt.Errorf("unknown bug switch %q", b)
		}
		memory = memory || b == BugMemoryOutbox
	}
	if c.DataDir == "" && !memory {
		return fmt.Errorf("%s is not set (the outbox needs a directory)", contract.EnvConnectorDataDir)
	}
	if c.Concurrency < 0 {
		return fmt.Errorf("concurrency %d: want ≥ 0", c.Concurrency)
	}
	return nil
}

// ReadEnvFile reads KEY=value lines, as `doorbuster sim --env-file` writes them. Blank
// lines and lines starting with '#' are skipped, an optional "export " prefix is
// dropped, and a value in matching single or double quotes is unquoted.
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("env file: %w", err)
	}
	defer f.Close()
	env, err := ParseEnv(f)
	if err != nil {
		return nil, fmt.Errorf("env file %s: %w", path, err)
	}
	return env, nil
}

// ParseEnv reads KEY=value lines (see ReadEnvFile).
func ParseEnv(r io.Reader) (map[string]string, error) {
	env := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			return nil, fmt.Errorf("line %d: want KEY=value, got %q", n, line)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			if v[0] == '"' {
				if u, err := strconv.Unquote(v); err == nil {
					v = u
				} else {
					v = v[1 : len(v)-1]
				}
			} else {
				v = v[1 : len(v)-1]
			}
		}
		env[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return env, nil
}
