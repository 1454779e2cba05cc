package gateway

import "strings"

// outcome is what the issuer says to an authorisation with a test card.
type outcome struct {
	brand, last4, funding string
	// code is empty for an approval; otherwise Stripe's error code (card_declined,
	// expired_card, incorrect_cvc, processing_error, incorrect_number) and decline_code.
	code, declineCode, message string
}

func (o outcome) approved() bool { return o.code == "" }

func approve(brand, last4, funding string) outcome {
	return outcome{brand: brand, last4: last4, funding: funding}
}

func decline(last4, code, declineCode, message string) outcome {
	return outcome{brand: "visa", last4: last4, funding: "credit", code: code, declineCode: declineCode, message: message}
}

// Decline messages, as Stripe words them.
const (
	msgDeclined          = "Your card was declined."
	msgInsufficientFunds = "Your card has insufficient funds."
	msgExpired           = "Your card has expired."
	msgIncorrectCVC      = "Your card's security code is incorrect."
	msgProcessing        = "An error occurred while processing your card. Try again in a little bit."
	msgIncorrectNumber   = "Your card number is incorrect."
	msgLiveCardInTest    = "Your card was declined. Your request was in test mode, but used a non test card. For a list of valid test cards, visit: https://stripe.com/docs/testing."
)

// testCard returns the outcome of one of Stripe's test card numbers.
func testCard(number string) (outcome, bool) {
	switch number {
	case "4242424242424242":
		return approve("visa", "4242", "credit"), true
	case "4000056655665556":
		return approve("visa", "5556", "debit"), true
	case "5555555555554444":
		return approve("mastercard", "4444", "credit"), true
	case "2223003122003222":
		return approve("mastercard", "3222", "credit"), true
	case "378282246310005":
		return approve("amex", "0005", "credit"), true
	case "6011111111111117":
		return approve("discover", "1117", "credit"), true
	case "4000000000000002":
		return decline("0002", "card_declined", "generic_decline", msgDeclined), true
	case "4000000000009995":
		return decline("9995", "card_declined", "insufficient_funds", msgInsufficientFunds), true
	case "4000000000009987":
		return decline("9987", "card_declined", "lost_card", msgDeclined), true
	case "4000000000009979":
		return decline("9979", "card_declined", "stolen_card", msgDeclined), true
	case "4000000000000069":
		return decline("0069", "expired_card", "expired_card", msgExpired), true
	case "4000000000000127":
		return decline("0127", "incorrect_cvc", "incorrect_cvc", msgIncorrectCVC), true
	case "4000000000000119":
		return decline("0119", "processing_error", "processing_error", msgProcessing), true
	}
	return outcome{}, false
}

// testPaymentMethodCard returns the card number behind one of Stripe's pm_card_* test
// payment methods.
func testPaymentMethodCard(pm string) (string, bool) {
	switch pm {
	case "pm_card_visa":
		return "4242424242424242", true
	case "pm_card_visa_debit":
		return "4000056655665556", true
	case "pm_card_mastercard":
		return "5555555555554444", true
	case "pm_card_amex":
		return "378282246310005", true
	case "pm_card_discover":
		return "6011111111111117", true
	case "pm_card_chargeDeclined":
		return "4000000000000002", true
	case "pm_card_chargeDeclinedInsufficientFunds", "pm_card_visa_chargeDeclinedInsufficientFunds":
		return "4000000000009995", true
	case "pm_card_chargeDeclinedLostCard":
		return "4000000000009987", true
	case "pm_card_chargeDeclinedStolenCard":
		return "4000000000009979", true
	case "pm_card_chargeDeclinedExpiredCard":
		return "4000000000000069", true
	case "pm_card_chargeDeclinedIncorrectCvc":
		return "4000000000000127", true
	case "pm_card_chargeDeclinedProcessingError":
		return "4000000000000119", true
	}
	return "", false
}

// cardOutcome is the outcome for a card number: a test card's, incorrect_number for a
// number failing the Luhn check, and a test-mode decline for any other number.
func cardOutcome(number string) outcome {
	number = strings.NewReplacer(" ", "", "-", "").Replace(number)
	if o, ok := testCard(number); ok {
		return o
	}
	last4 := number
	if len(last4) > 4 {
		last4 = last4[len(last4)-4:]
	}
	if !luhnValid(number) {
		return decline(last4, "incorrect_number", "", msgIncorrectNumber)
	}
	return decline(last4, "card_declined", "test_mode_live_card", msgLiveCardInTest)
}

// luhnValid reports whether number is 12 to 19 digits with a valid Luhn check digit.
func luhnValid(number string) bool {
	if len(number) < 12 || len(number) > 19 {
		return false
	}
	sum := 0
	double := false
	for i := len(number) - 1; i >= 0; i-- {
		c := number[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// minimumAmount is Stripe's minimum charge in minor units for the currencies the gateway
// accepts (lower-case ISO 4217); ok is false for any other currency.
func minimumAmount(currency string) (minimum int64, ok bool) {
	switch currency {
	case "usd", "cad", "aud", "nzd", "sgd", "eur", "chf", "brl", "jpy", "inr":
		return 50, true
	case "gbp":
		return 30, true
	case "bgn":
		return 100, true
	case "pln", "ron":
		return 200, true
	case "dkk":
		return 250, true
	case "nok", "sek":
		return 300, true
	case "hkd":
		return 400, true
	case "mxn", "thb":
		return 1000, true
	case "czk":
		return 1500, true
	}
	return 0, false
}

// currencies lists the accepted currencies for error messages.
const currencies = "aud, bgn, brl, cad, chf, czk, dkk, eur, gbp, hkd, inr, jpy, mxn, nok, nzd, pln, ron, sek, sgd, thb, usd"

// maxAmount is the largest amount Stripe takes (eight digits).
const maxAmount = 99999999
