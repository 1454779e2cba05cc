// Package netsuite is a stateful simulator of NetSuite's REST web services for the
// records a point-of-sale connector uses: the record API, SuiteQL, async jobs,
// token-based authentication and governance, with the books kept in SQLite.
//
// A real NetSuite client talks to it by changing its base URL:
//
//	connector ──HTTP──► gin: metrics ─► governance ─► faults ─► auth (TBA) ─► handler
//	                                                                            │
//	                              books (SQLite, WAL) ◄── posting rules ◄───────┘
//
// Governance comes before the fault engine so that an injected latency is served while
// the request holds its concurrency slot, as a slow NetSuite request does; faults come
// before authentication so that they hit a request whatever its credentials.
//
// Routes:
//
//	/services/rest/record/v1/{type}[/{id}|/eid:{externalId}]   record API
//	/services/rest/record/v1/cashSale/{id}/!transform/cashRefund
//	/services/rest/query/v1/suiteql                             SuiteQL over views
//	/services/rest/async/v1/job/{id}[/task/{task}[/result]]      async jobs
//	/services/rest/system/v1/governanceLimits                   concurrency limits
//	/_sim/export, /_sim/reset, /healthz, /metrics               harness endpoints
//
// Choices where NetSuite is silent or where the simulator is simpler are documented
// next to the code that makes them; the books' tables are described in books.go.
package netsuite
