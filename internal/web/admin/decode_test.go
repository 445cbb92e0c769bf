package admin

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/internal/web/kernel/decodetest"
)

var adminSeeds = []string{
	`{"symbol":"MSFT","name":"Microsoft","exchange":"NASDAQ","sector":"Technology"}`,
	`{"name":"Low Cost","email":"desk@lowcost.example","commission_rate":"0.25"}`,
	`{"Symbol":"MSFT"}`, `{"name":"a","name":"b"}`, `{"active":false}`, `{"active":"no"}`,
	`{"role":"admin","active":true}`, `{"commission_rate":0.25}`, `{"name":null}`,
}

func FuzzDecodeCompanyRequest(f *testing.F) {
	for _, s := range append(decodetest.Seeds, adminSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req companyInput
		decodetest.Check(t, body, kernel.DecodeStrict(body, &req), &req)
	})
}

func FuzzDecodeCompanyUpdate(f *testing.F) {
	for _, s := range append(decodetest.Seeds, adminSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req companyUpdate
		decodetest.Check(t, body, kernel.DecodeStrict(body, &req), &req)
	})
}

func FuzzDecodeBrokerRequest(f *testing.F) {
	for _, s := range append(decodetest.Seeds, adminSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req brokerInput
		decodetest.Check(t, body, kernel.DecodeStrict(body, &req), &req)
	})
}

func FuzzDecodeBrokerUpdate(f *testing.F) {
	for _, s := range append(decodetest.Seeds, adminSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req brokerUpdate
		decodetest.Check(t, body, kernel.DecodeStrict(body, &req), &req)
	})
}

func FuzzDecodeUserUpdate(f *testing.F) {
	for _, s := range append(decodetest.Seeds, adminSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req userUpdate
		decodetest.Check(t, body, kernel.DecodeStrict(body, &req), &req)
	})
}

// FuzzAdminInput: whatever a decoded company or broker holds, checking it
// either refuses with a 422 naming a field, or gives values the database
// accepts: a valid symbol, text within its bounds, a rate from 0 to 100.
func FuzzAdminInput(f *testing.F) {
	f.Add("msft", "Microsoft", "", "0.25", "")
	f.Add(" ", "<b>x</b>", "a@b.example", "100", "Desk <d@b>")
	f.Add("^GSPC", "\xff", "", "-0", "1e3")
	f.Add("IBM", "a\x00b", "", "0.0000", "\x00")
	f.Fuzz(func(t *testing.T, symbol, name, email, rate, label string) {
		co, err := companyInput{Symbol: symbol, Name: name, Exchange: label, Sector: label}.company()
		if err != nil {
			var api *kernel.Error
			require.True(t, errors.As(err, &api))
			require.Equal(t, http.StatusUnprocessableEntity, api.Status)
			require.NotEmpty(t, api.Field)
		} else {
			require.Equal(t, strings.ToUpper(co.Symbol), co.Symbol)
			require.NotEmpty(t, co.Name)
			require.True(t, utf8.ValidString(co.Name+co.Exchange) && !strings.ContainsRune(co.Name+co.Exchange, 0))
		}
		b, err := brokerInput{Name: name, Email: email, CommissionRate: rate}.broker()
		if err != nil {
			var api *kernel.Error
			require.True(t, errors.As(err, &api), "%T %v", err, err)
			require.Equal(t, http.StatusUnprocessableEntity, api.Status)
			require.NotEmpty(t, api.Field)
			return
		}
		require.NotEmpty(t, b.Name)
		require.False(t, b.CommissionRate.IsNegative())
		require.True(t, b.CommissionRate.LessThanOrEqual(portfolio.MaxCommissionRate))
	})
}
