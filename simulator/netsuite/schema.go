package netsuite

import "sort"

// kind is the type of a record field.
type kind int

const (
	kString  kind = iota // JSON string
	kBool                // JSON boolean
	kNumber              // JSON number (quantities)
	kMoney               // JSON number with at most two decimals after rounding
	kDate                // "YYYY-MM-DD"
	kRef                 // {"id": "…"} or {"externalId": "…"}
	kCode                // a code given as a string or as {"id": "…"}; not checked (gift certificates)
	kSublist             // {"items": [ {…}, … ]}
	kTenders             // custbody_pos_tenders: a JSON array, or a string holding one
)

func (k kind) String() string {
	switch k {
	case kString:
		return "string"
	case kBool:
		return "boolean"
	case kNumber, kMoney:
		return "number"
	case kDate:
		return "date (YYYY-MM-DD)"
	case kRef:
		return `reference ({"id": "…"} or {"externalId": "…"})`
	case kCode:
		return `string or {"id": "…"}`
	case kSublist:
		return `sublist ({"items": […]})`
	case kTenders:
		return "JSON array of tenders (or a string holding one)"
	}
	return "value"
}

// field describes one field of a record or of a sublist line.
type field struct {
	name     string
	kind     kind
	target   string        // record type a kRef points to
	label    string        // NetSuite's label, used in "Please enter value(s) for" errors
	required bool          // must be present on create (after defaults)
	sub      *recordSchema // the line schema of a kSublist
}

// recordSchema describes a record type (or a sublist line).
type recordSchema struct {
	name     string // REST record type, e.g. "cashSale"
	family   string // id sequence: all transactions share one, other types their own
	tranType string // NetSuite's transaction type code (transaction.type), e.g. "CashSale"
	prefix   string // tranid prefix
	fields   map[string]*field
}

func (s *recordSchema) isTransaction() bool { return s.family == familyTransaction }

// sublistNames returns the record's sublist field names, sorted.
func (s *recordSchema) sublistNames() []string {
	var out []string
	for n, f := range s.fields {
		if f.kind == kSublist {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

const familyTransaction = "transaction"

// Record types of the record API, and the types that are only reference targets.
const (
	typeCustomer            = "customer"
	typeInventoryItem       = "inventoryItem"
	typeLocation            = "location"
	typeSubsidiary          = "subsidiary"
	typeAccount             = "account"
	typeCashSale            = "cashSale"
	typeCashRefund          = "cashRefund"
	typeSalesOrder          = "salesOrder"
	typeItemFulfillment     = "itemFulfillment"
	typeInventoryTransfer   = "inventoryTransfer"
	typeInventoryAdjustment = "inventoryAdjustment"
	typeJournalEntry        = "journalEntry"
	// Reference-only types: loaded from the world, readable through SuiteQL, not
	// served by the record API.
	typePaymentMethod = "paymentMethod"
	typeSalesTaxItem  = "salesTaxItem"
)

// Documented custom fields the simulated account has.
//
//   - custbody_pos_tenders (cashSale, cashRefund; long text): the split of a payment
//     between several payment methods, a JSON array of
//     {"paymentMethod": {"id": "…"}, "amount": 12.34, "pnRefNum": "pi_…"}. Each tender
//     debits (refund: credits) its payment method's account. It may be sent as the
//     array itself or as a string holding it; GET returns the string form. When it is
//     present, the tenders plus the gift certificates must add up to the total, and the
//     body paymentMethod is not used for posting.
//   - custbody_pos_register, custbody_pos_cashier (transactions; free text).
//   - custcol_restock (cashRefund lines; checkbox, default true): false means the
//     returned goods are written off, not put back on the shelf. NetSuite's native cash
//     refund returns inventory items to stock, hence the default.
//   - custentity_loyalty_id (customer; free text).
//   - custitem_weighed (inventoryItem; checkbox): sold by weight. isTaxable (default
//     true) says whether a line takes its location's tax code (see posting.go).
//   - basePrice (inventoryItem): the unit price a line without rate takes; NetSuite
//     keeps it in the price sublist, the simulator flattens it.
const (
	fieldTenders = "custbody_pos_tenders"
	fieldRestock = "custcol_restock"
)

func fields(fs ...*field) map[string]*field {
	m := make(map[string]*field, len(fs))
	for _, f := range fs {
		m[f.name] = f
	}
	return m
}

func str(name string) *field             { return &field{name: name, kind: kString} }
func boolean(name string) *field         { return &field{name: name, kind: kBool} }
func number(name string) *field          { return &field{name: name, kind: kNumber} }
func amount(name string) *field          { return &field{name: name, kind: kMoney} }
func date(name string) *field            { return &field{name: name, kind: kDate} }
func refTo(name, target string) *field   { return &field{name: name, kind: kRef, target: target} }
func (f *field) req(label string) *field { f.required = true; f.label = label; return f }

func sublist(name string, line *recordSchema) *field {
	return &field{name: name, kind: kSublist, sub: line}
}

// Fields every record has; accepted on input and ignored (they come back from GET).
var readOnlyFields = map[string]bool{
	"id": true, "links": true, "refName": true, "createdDate": true, "lastModifiedDate": true,
	"total": true, "subtotal": true, "taxTotal": true, "averageCost": true, "status": true,
}

func transactionFields(extra ...*field) map[string]*field {
	base := []*field{
		str("externalId"), str("tranId"), date("tranDate"), str("memo"),
		refTo("subsidiary", typeSubsidiary), refTo("location", typeLocation),
		str("custbody_pos_register"), str("custbody_pos_cashier"),
	}
	return fields(append(base, extra...)...)
}

// saleLine is the item line of cash sales, cash refunds and sales orders.
func saleLine(extra ...*field) *recordSchema {
	base := []*field{
		refTo("item", typeInventoryItem).req("Item"), number("quantity"), number("rate"),
		amount("amount"), refTo("taxCode", typeSalesTaxItem), amount("tax1Amt"),
		refTo("location", typeLocation), str("description"), number("line"),
	}
	return &recordSchema{name: "item", fields: fields(append(base, extra...)...)}
}

var giftCertLine = &recordSchema{name: "giftCertRedemption", fields: fields(
	&field{name: "authCode", kind: kCode, required: true, label: "Gift Certificate"},
	amount("authCodeApplied").req("Amount Applied"), number("line"),
)}

func newSchemas() map[string]*recordSchema {
	all := []*recordSchema{
		{name: typeSubsidiary, family: typeSubsidiary, fields: fields(
			str("externalId"), str("name").req("Name"), str("country"), str("currency"), boolean("isInactive"),
		)},
		{name: typeLocation, family: typeLocation, fields: fields(
			str("externalId"), str("name").req("Name"), refTo("subsidiary", typeSubsidiary).req("Subsidiary"),
			str("locationType"), refTo("taxCode", typeSalesTaxItem), str("city"), str("state"),
			str("timeZone"), boolean("isInactive"),
		)},
		{name: typeAccount, family: typeAccount, fields: fields(
			str("externalId"), str("acctNumber"), str("acctName").req("Name"), str("acctType").req("Type"),
			boolean("isInactive"),
		)},
		{name: typeCustomer, family: typeCustomer, fields: fields(
			str("externalId"), str("entityId"), boolean("isPerson"), str("companyName"),
			str("firstName"), str("lastName"), str("email"), str("phone"),
			refTo("subsidiary", typeSubsidiary), str("custentity_loyalty_id"), boolean("isInactive"),
		)},
		{name: typeInventoryItem, family: typeInventoryItem, fields: fields(
			str("externalId"), str("itemId").req("Item Name/Number"), str("displayName"), str("upcCode"),
			amount("basePrice"), amount("cost"), refTo("salesTaxCode", typeSalesTaxItem),
			refTo("incomeAccount", typeAccount), refTo("cogsAccount", typeAccount), refTo("assetAccount", typeAccount),
			boolean("isTaxable"), boolean("custitem_weighed"), boolean("isInactive"),
		)},
		{name: typeCashSale, family: familyTransaction, tranType: "CashSale", prefix: "CS", fields: transactionFields(
			refTo("entity", typeCustomer), refTo("paymentMethod", typePaymentMethod), str("pnRefNum"),
			&field{name: fieldTenders, kind: kTenders}, refTo("createdFrom", typeSalesOrder),
			sublist("item", saleLine()), sublist("giftCertRedemption", giftCertLine),
		)},
		{name: typeCashRefund, family: familyTransaction, tranType: "CashRfnd", prefix: "CR", fields: transactionFields(
			refTo("entity", typeCustomer), refTo("paymentMethod", typePaymentMethod), str("pnRefNum"),
			&field{name: fieldTenders, kind: kTenders}, refTo("createdFrom", typeCashSale),
			sublist("item", saleLine(boolean(fieldRestock))), sublist("giftCertRedemption", giftCertLine),
		)},
		{name: typeSalesOrder, family: familyTransaction, tranType: "SalesOrd", prefix: "SO", fields: transactionFields(
			refTo("entity", typeCustomer), sublist("item", saleLine()),
		)},
		{name: typeItemFulfillment, family: familyTransaction, tranType: "ItemShip", prefix: "IF", fields: transactionFields(
			refTo("entity", typeCustomer), refTo("createdFrom", typeSalesOrder),
			sublist("item", &recordSchema{name: "item", fields: fields(
				refTo("item", typeInventoryItem).req("Item"), number("quantity").req("Quantity"),
				refTo("location", typeLocation), boolean("itemReceive"), number("line"),
			)}),
		)},
		{name: typeInventoryTransfer, family: familyTransaction, tranType: "InvTrnfr", prefix: "IT", fields: transactionFields(
			refTo("transferLocation", typeLocation).req("To Location"),
			sublist("inventory", &recordSchema{name: "inventory", fields: fields(
				refTo("item", typeInventoryItem).req("Item"), number("adjustQtyBy").req("Qty. to Transfer"),
				str("description"), number("line"),
			)}),
		)},
		{name: typeInventoryAdjustment, family: familyTransaction, tranType: "InvAdjst", prefix: "IA", fields: transactionFields(
			refTo("account", typeAccount).req("Adjustment Account"), refTo("adjLocation", typeLocation),
			sublist("inventory", &recordSchema{name: "inventory", fields: fields(
				refTo("item", typeInventoryItem).req("Item"), refTo("location", typeLocation),
				number("adjustQtyBy").req("Adjust Qty. By"), amount("unitCost"), str("description"), number("line"),
			)}),
		)},
		{name: typeJournalEntry, family: familyTransaction, tranType: "Journal", prefix: "JE", fields: transactionFields(
			sublist("line", &recordSchema{name: "line", fields: fields(
				refTo("account", typeAccount).req("Account"), amount("debit"), amount("credit"), str("memo"),
				refTo("entity", typeCustomer), refTo("location", typeLocation), number("line"),
			)}),
		)},
	}
	m := make(map[string]*recordSchema, len(all))
	for _, s := range all {
		m[s.name] = s
	}
	return m
}

// tenderSchema is one element of custbody_pos_tenders.
var tenderSchema = &recordSchema{name: fieldTenders, fields: fields(
	refTo("paymentMethod", typePaymentMethod).req("Payment Method"), amount("amount").req("Amount"), str("pnRefNum"),
)}
