package simulate

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

var (
	regions  = []string{"north", "east", "south", "west", "central"}
	channels = []string{"email", "chat", "voice", "social"}
)

// ticketTopics are the ordinary reasons customers write in, with the
// category the model would give and a few ways of saying each. %s is an
// order number.
type topic struct {
	category string
	weight   float64
	texts    []string
}

var ticketTopics = []topic{
	{"delivery_delay", 0.25, []string{"我的快递三天了还没到，订单%s", "订单%s物流一直不更新", "快递显示签收了但我没收到", "My parcel for order %s has not arrived", "Delivery is late, order %s still in transit"}},
	{"return_refund", 0.2, []string{"我要退货，订单%s", "退款什么时候到账", "衣服尺码不对想换货", "I want to return order %s", "When will I get my refund for %s?"}},
	{"order_status", 0.15, []string{"帮我查一下订单%s的状态", "订单%s什么时候发货", "Where is my order %s?", "Can you check the status of order %s"}},
	{"account_problem", 0.12, []string{"账号登录不了，验证码收不到", "忘记密码怎么找回", "I cannot log in to my account", "Password reset email never arrives"}},
	{"payment_problem", 0.08, []string{"优惠券用不了", "发票怎么开", "Coupon code does not work at checkout", "How do I get an invoice for %s"}},
	{"complaint", 0.1, []string{"客服态度太差了", "商品质量有问题，很失望", "The product arrived damaged", "Very disappointed with the quality"}},
	{"change_address", 0.1, []string{"订单%s要改收货地址", "能改一下配送地址吗", "Please change the delivery address of order %s"}},
}

type callIntent struct {
	intent string
	weight float64
}

var callIntents = []callIntent{
	{"order_status", 0.3}, {"delivery_delay", 0.2}, {"return_refund", 0.2}, {"talk_to_human", 0.15},
	{"payment_problem", 0.05}, {"account_problem", 0.05}, {"complaint", 0.05},
}

// logTemplates are ordinary service log lines; the ids are their true
// templates.
type logTemplate struct {
	service, level, id string
	weight             float64
	line               func(r *rand.Rand) string
}

var logTemplates = []logTemplate{
	{"api-gateway", "INFO", "gw-request", 0.35, func(r *rand.Rand) string {
		return fmt.Sprintf("request handled method=GET path=/api/v1/orders/%d status=200 latency=%dms", r.IntN(1e6), 5+r.IntN(80))
	}},
	{"checkout", "INFO", "checkout-ok", 0.15, func(r *rand.Rand) string {
		return fmt.Sprintf("order %d created for user %d total=%d.%02d", 1e9+r.IntN(1e9), r.IntN(1e6), r.IntN(900), r.IntN(100))
	}},
	{"payment-gw", "INFO", "pay-ok", 0.12, func(r *rand.Rand) string {
		return fmt.Sprintf("payment authorised txn=%016x amount=%d.%02d in %dms", r.Uint64(), r.IntN(900), r.IntN(100), 80+r.IntN(300))
	}},
	{"search", "INFO", "search-query", 0.15, func(r *rand.Rand) string {
		return fmt.Sprintf("query served hits=%d took=%dms shard=%d", r.IntN(500), 3+r.IntN(40), r.IntN(8))
	}},
	{"inventory", "WARN", "inv-slow", 0.05, func(r *rand.Rand) string {
		return fmt.Sprintf("slow query took %dms on table stock_%d", 500+r.IntN(1500), r.IntN(16))
	}},
	{"notification", "INFO", "notify-sent", 0.13, func(r *rand.Rand) string {
		return fmt.Sprintf("sms sent to user %d via provider %d", r.IntN(1e6), 1+r.IntN(3))
	}},
	{"checkout", "ERROR", "checkout-err", 0.02, func(r *rand.Rand) string {
		return fmt.Sprintf("cart %d validation failed: item %d out of stock", r.IntN(1e6), r.IntN(1e5))
	}},
	{"payment-gw", "ERROR", "pay-timeout", 0.005, func(r *rand.Rand) string {
		return fmt.Sprintf("upstream timeout after %dms calling acquirer host=10.0.%d.%d:8443 txn=%016x",
			3000+r.IntN(2000), r.IntN(4), 2+r.IntN(200), r.Uint64())
	}},
	{"search", "ERROR", "search-err", 0.015, func(r *rand.Rand) string {
		return fmt.Sprintf("shard %d unavailable, retrying in %dms", r.IntN(8), 100*(1+r.IntN(5)))
	}},
}

func weighted[T any](r *rand.Rand, items []T, weight func(T) float64) T {
	var total float64
	for _, it := range items {
		total += weight(it)
	}
	x := r.Float64() * total
	for _, it := range items {
		if x -= weight(it); x < 0 {
			return it
		}
	}
	return items[len(items)-1]
}

func ordinaryTicket(r *rand.Rand, _ time.Time) Event {
	topic := weighted(r, ticketTopics, func(t topic) float64 { return t.weight })
	text := topic.texts[r.IntN(len(topic.texts))]
	if strings.Contains(text, "%s") {
		text = fmt.Sprintf(text, fmt.Sprintf("%010d", r.Int64N(1e10)))
	}
	return Event{Kind: KindTicket, Ticket: &Ticket{
		Subject: text, Language: lang(text), Category: topic.category,
		Region: regions[r.IntN(len(regions))], Channel: channels[r.IntN(len(channels))],
	}}
}

func ordinaryCall(r *rand.Rand, _ time.Time) Event {
	in := weighted(r, callIntents, func(c callIntent) float64 { return c.weight })
	return Event{Kind: KindCall, Call: &Call{
		Intent: in.intent, Region: regions[r.IntN(len(regions))],
		Duration: time.Duration(30+r.IntN(300)) * time.Second,
	}}
}

func ordinaryLog(r *rand.Rand, _ time.Time) Event {
	t := weighted(r, logTemplates, func(t logTemplate) float64 { return t.weight })
	return Event{Kind: KindLog, Log: &Log{Service: t.service, Level: t.level, Message: t.line(r), Template: t.id}}
}
