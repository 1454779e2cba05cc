package connector

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"

	"github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/contract"
)

// customerIdentity is the external id a customer is upserted by: "LOY-" + the loyalty
// id when there is one, else "CUS-" + a hash of the lower-cased e-mail, else of the
// phone's digits. "" when the register named nobody. Ids that would not be valid
// NetSuite external ids are hashed too.
func customerIdentity(c *contract.Customer) string {
	if c == nil {
		return ""
	}
	if l := strings.TrimSpace(c.LoyaltyID); l != "" {
		if id := "LOY-" + l; netsuite.ValidExternalID(id) {
			return id
		}
		return "LOY-" + digest("loyalty:"+l)
	}
	if e := strings.ToLower(strings.TrimSpace(c.Email)); e != "" {
		return "CUS-" + digest("email:"+e)
	}
	var digits strings.Builder
	for _, r := range c.Phone {
		if r >= '0' && r <= '9' {
			digits.WriteRune(r)
		}
	}
	if digits.Len() > 0 {
		return "CUS-" + digest("phone:"+digits.String())
	}
	return ""
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// transactionEID is the external id a transaction's NetSuite record is upserted by:
// the register's id when it is a valid NetSuite external id (letters, digits, '_',
// '-'; at most 240 characters), else "POS-" + 32 hex digits of its SHA-256. The
// contract also allows '.' and ':' in ids; those ids are hashed, and every record
// carries the register's id in memo ("POS <id>") as well.
func transactionEID(id string) string {
	if netsuite.ValidExternalID(id) && len(id) <= 240 {
		return id
	}
	return "POS-" + digest("tx:"+id)
}

// Suffixes of the two records an exchange posts.
const (
	exchangeRefundSuffix = "-R" // the cash refund of the returned lines
	exchangeSaleSuffix   = "-S" // the cash sale of the new lines
)

// keyedMutex serialises work per key (one customer identity at a time).
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
