package admin

import (
	"errors"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/ticker"
	"github.com/augurhq/augur/internal/web/kernel"
)

// Lengths of the catalogue's free text, in characters: room for any real
// company, exchange or broker, and not for a pasted document.
const (
	maxNameLen  = 200
	maxLabelLen = 100
	maxEmailLen = 254
)

// The admin forms and the admin API read companies, brokers and roles
// through the functions below, so both refuse the same things with the same
// words. Each refusal is a 422 *kernel.Error naming its field.

func invalid(field, code, msg string) error {
	return &kernel.Error{Status: http.StatusUnprocessableEntity, Code: code, Field: field, Message: field + " " + msg}
}

// optionalText is text for a field that an edit may leave out (nil).
func optionalText(field string, raw *string, required bool, limit int) (*string, error) {
	if raw == nil {
		return nil, nil
	}
	v, err := kernel.CheckText(field, *raw, required, limit)
	return &v, err
}

// companyInput is a company as a form or the API gives it.
type companyInput struct {
	Symbol   string `json:"symbol"`
	Name     string `json:"name"`
	Exchange string `json:"exchange"`
	Sector   string `json:"sector"`
}

// company checks a new company. The symbol follows the one ticker rule, so
// every company can be priced and predicted.
func (in companyInput) company() (store.Company, error) {
	symbol, err := ticker.Normalize(in.Symbol)
	if err != nil {
		if strings.TrimSpace(in.Symbol) == "" {
			return store.Company{}, invalid("symbol", "required", "is required")
		}
		return store.Company{}, invalid("symbol", "invalid_symbol", "must be a ticker symbol: "+ticker.Rule)
	}
	c := store.Company{Symbol: symbol}
	if c.Name, err = kernel.CheckText("name", in.Name, true, maxNameLen); err != nil {
		return c, err
	}
	if c.Exchange, err = kernel.CheckText("exchange", in.Exchange, false, maxLabelLen); err != nil {
		return c, err
	}
	c.Sector, err = kernel.CheckText("sector", in.Sector, false, maxLabelLen)
	return c, err
}

// companyUpdate is an edit of a company; absent fields stay as they are.
// The symbol is not among them: history is keyed by it.
type companyUpdate struct {
	Name     *string `json:"name"`
	Exchange *string `json:"exchange"`
	Sector   *string `json:"sector"`
	Active   *bool   `json:"active"`
}

func (in companyUpdate) change() (store.CompanyChange, error) {
	ch := store.CompanyChange{Active: in.Active}
	var err error
	if ch.Name, err = optionalText("name", in.Name, true, maxNameLen); err != nil {
		return ch, err
	}
	if ch.Exchange, err = optionalText("exchange", in.Exchange, false, maxLabelLen); err != nil {
		return ch, err
	}
	ch.Sector, err = optionalText("sector", in.Sector, false, maxLabelLen)
	return ch, err
}

// brokerInput is a broker as a form or the API gives it. The rate is a
// decimal string of percent, "0.25" meaning 0.25 %.
type brokerInput struct {
	Name           string `json:"name"`
	Email          string `json:"email"`
	CommissionRate string `json:"commission_rate"`
}

func (in brokerInput) broker() (store.Broker, error) {
	var b store.Broker
	var err error
	if b.Name, err = kernel.CheckText("name", in.Name, true, maxNameLen); err != nil {
		return b, err
	}
	if b.Email, err = email(in.Email); err != nil {
		return b, err
	}
	b.CommissionRate, err = commissionRate(in.CommissionRate)
	return b, err
}

// brokerUpdate is an edit of a broker; absent fields stay as they are.
type brokerUpdate struct {
	Name           *string `json:"name"`
	Email          *string `json:"email"`
	CommissionRate *string `json:"commission_rate"`
	Active         *bool   `json:"active"`
}

func (in brokerUpdate) change() (store.BrokerChange, error) {
	ch := store.BrokerChange{Active: in.Active}
	var err error
	if ch.Name, err = optionalText("name", in.Name, true, maxNameLen); err != nil {
		return ch, err
	}
	if in.Email != nil {
		e, err := email(*in.Email)
		if err != nil {
			return ch, err
		}
		ch.Email = &e
	}
	if in.CommissionRate != nil {
		rate, err := commissionRate(*in.CommissionRate)
		if err != nil {
			return ch, err
		}
		ch.CommissionRate = &rate
	}
	return ch, nil
}

// email reads an optional contact address: empty, or one bare address.
func email(raw string) (string, error) {
	v, err := kernel.CheckText("email", raw, false, maxEmailLen)
	if err != nil || v == "" {
		return v, err
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		return "", invalid("email", "invalid_email", "must be an email address such as desk@broker.example")
	}
	return v, nil
}

// commissionRate reads a rate with portfolio's rule, its refusal becoming
// the API's.
func commissionRate(raw string) (decimal.Decimal, error) {
	rate, err := portfolio.ParseCommissionRate(strings.TrimSpace(raw))
	var input *portfolio.InputError
	if errors.As(err, &input) {
		return rate, &kernel.Error{Status: http.StatusUnprocessableEntity, Code: input.Code, Field: input.Field, Message: input.Message}
	}
	return rate, err
}

// userUpdate is an admin's change to an account; absent fields stay.
type userUpdate struct {
	Role   *string `json:"role"`
	Active *bool   `json:"active"`
}

// checkRole refuses anything but a role's name.
func checkRole(raw string) error {
	if raw != store.RoleUser && raw != store.RoleAdmin {
		return invalid("role", "invalid_role", `must be "user" or "admin"`)
	}
	return nil
}

// companyUpdated and brokerUpdated are the audit rows of an admin's change
// to a company or a broker: what was asked to change.
func companyUpdated(id int64, in companyUpdate) audit.Event {
	return audit.Event{Action: audit.CompanyUpdated, Target: "company:" + strconv.FormatInt(id, 10), Details: changedFields(map[string]*string{
		"name": in.Name, "exchange": in.Exchange, "sector": in.Sector}, in.Active)}
}

func brokerUpdated(id int64, in brokerUpdate) audit.Event {
	return audit.Event{Action: audit.BrokerUpdated, Target: "broker:" + strconv.FormatInt(id, 10), Details: changedFields(map[string]*string{
		"name": in.Name, "email": in.Email, "commission_rate": in.CommissionRate}, in.Active)}
}

// changedFields are the fields an update sets, for its audit row.
func changedFields(fields map[string]*string, active *bool) map[string]string {
	out := map[string]string{}
	for name, v := range fields {
		if v != nil {
			out[name] = *v
		}
	}
	if active != nil {
		out["active"] = strconv.FormatBool(*active)
	}
	return out
}

// taskTarget names a queue's task as the target of an audit row.
func taskTarget(queue, id string) string { return "task:" + queue + "/" + id }
