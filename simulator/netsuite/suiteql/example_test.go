package suiteql_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/doorbuster/doorbuster/simulator/netsuite/suiteql"
)

func ExampleTranslate() {
	sql, err := suiteql.Translate(`SELECT id, tranid FROM transaction
		WHERE NVL(externalid, 'none') <> 'none' ORDER BY id FETCH FIRST 10 ROWS ONLY`)
	fmt.Println(sql, err)

	_, err = suiteql.Translate("SELECT id FROM item CONNECT BY PRIOR id = parent")
	var e *suiteql.Error
	if errors.As(err, &e) {
		fmt.Println(e.Msg, e.Construct, e.Pos)
	}
	// Output:
	// SELECT id, tranid FROM `transaction` WHERE IFNULL(externalid, 'none') <> 'none' ORDER BY id NULLS LAST LIMIT 10 <nil>
	// Invalid search query. Unsupported construct "CONNECT BY" at position 21. CONNECT BY 21
}

func ExampleTranslator_Translate() {
	tr := suiteql.New(suiteql.WithClock(func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }))
	sql, _ := tr.Translate("SELECT BUILTIN.DF(location) store, COUNT(*) FROM transaction WHERE trandate >= TRUNC(SYSDATE) - 7 GROUP BY location")
	fmt.Println(sql)
	fmt.Println(suiteql.Page(sql, 100, 0))
	// Output:
	// SELECT (SELECT _df1.name FROM location AS _df1 WHERE _df1.id = location) AS store, COUNT(*) AS expr1 FROM `transaction` WHERE trandate >= date(date('2026-11-27T12:00:00.000Z'), '-7 days') GROUP BY location
	// SELECT * FROM (SELECT (SELECT _df1.name FROM location AS _df1 WHERE _df1.id = location) AS store, COUNT(*) AS expr1 FROM `transaction` WHERE trandate >= date(date('2026-11-27T12:00:00.000Z'), '-7 days') GROUP BY location) LIMIT 100 OFFSET 0
}
